/// CIFAR-10 in its binary distribution (`cifar-10-batches-bin`): 3×32×32 RGB images of 10
/// classes from a folder the user names. Nothing is downloaded.
///
/// Each file is a run of 3073-byte records: one label byte (0...9), then 1024 red, 1024 green and
/// 1024 blue bytes, each plane row-major, which is already the planar `[3, 32, 32]` layout. The
/// training split is `data_batch_1.bin` … `data_batch_5.bin` (those present, in order, at least
/// the first), the test split `test_batch.bin`. Class names come from `batches.meta.txt` when it
/// is there (one per line), else the standard ten.
public struct CIFAR10BinarySource: DataSource {
    public let directory: String
    public var name: String { "cifar10-binary" }
    public var exampleShape: [Int] { [3, 32, 32] }

    /// Bytes of one record: the label, then the pixels.
    public static let recordSize = 1 + 3 * 32 * 32
    /// The standard class names, by label.
    public static let standardClassNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    static let hint = "the CIFAR-10 binary version (cifar-10-batches-bin); name its folder in data.path"

    public init(directory: String) {
        self.directory = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
    }

    public var classNames: [String] {
        guard let bytes = try? RegularFile.read(directory + "/batches.meta.txt", limit: 1 << 16) else { return Self.standardClassNames }
        let names = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return names.count == 10 ? names : Self.standardClassNames
    }

    /// The files of `split`, in order.
    public func files(for split: ImageDataset.Split) -> [String] {
        switch split {
        case .test: return [directory + "/test_batch.bin"]
        case .train:
            let all = (1...5).map { "\(directory)/data_batch_\($0).bin" }
            // The first must exist (its absence is reported); the others are optional.
            return [all[0]] + all.dropFirst().filter { RegularFile.specialKind($0) == nil && access($0, F_OK) == 0 }
        }
    }

    public func load(split: ImageDataset.Split, limit: Int?) throws -> ImageDataset {
        var pixels: [UInt8] = [], labels: [Int32] = []
        let wanted = limit ?? .max
        var fileCount = 0
        for path in files(for: split) {
            let records = try Self.read(path: path, classCount: 10, pixels: &pixels, labels: &labels, keep: wanted - labels.count)
            fileCount += records
            if labels.count >= wanted { break }
        }
        var dataset = ImageDataset(pixels: pixels, labels: labels, channels: 3, height: 32, width: 32, classCount: 10)
        (dataset.imagesPath, dataset.fileCount) = (files(for: split)[0], fileCount)
        return dataset
    }

    /// Appends up to `keep` records of the file at `path`; returns the number of records in the file.
    static func read(path: String, classCount: Int, pixels: inout [UInt8], labels: inout [Int32], keep: Int) throws -> Int {
        if access(path, F_OK) != 0 { throw DataError.fileNotFound(path: path, hint: hint) }
        let bytes: [UInt8]
        do { bytes = try RegularFile.read(path, limit: 1 << 30) } catch { throw DataError.unreadable(path: path, reason: error.reason) }
        guard !bytes.isEmpty else {
            throw DataError.truncated(path: path, offset: 0, what: "a 3073-byte record", expected: recordSize, found: 0)
        }
        let records = bytes.count / recordSize
        let rest = bytes.count % recordSize
        guard rest == 0 else {
            throw DataError.truncated(path: path, offset: records * recordSize,
                                      what: "record \(records) (1 label byte + 3072 pixel bytes; the file is \(bytes.count) bytes, not a multiple of 3073)",
                                      expected: recordSize, found: rest)
        }
        for r in 0..<min(records, max(0, keep)) {
            let offset = r * recordSize
            let label = Int(bytes[offset])
            guard label < classCount else {
                throw DataError.invalidValue(path: path, offset: offset, reason: "label \(label) of record \(r) is outside 0..<\(classCount)")
            }
            labels.append(Int32(label))
            pixels.append(contentsOf: bytes[(offset + 1)..<(offset + recordSize)])
        }
        return records
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Foundation
