import Dispatch
import Foundation

/// Images in torchvision's `ImageFolder` layout: `root/<class>/<image>`, PNG or JPEG.
///
/// Class names are the sub-folder names sorted (by code point, as Python sorts them) and the
/// images of each class are found recursively, sorted, keeping `.png`, `.jpg` and `.jpeg` files
/// (any case). When `root/train` is a folder, it is the training split and `root/valid` (or
/// `root/val`, `root/test`) the test split; otherwise the files are split by `validFraction`,
/// drawn with `seed` (``ImageFolderLayout/scan(root:validFraction:seed:)``).
///
/// Each image is decoded to `channels` channels (grey copied to RGB, RGB to grey as PIL does) and
/// resized to `size` (bilinear, antialiased when shrinking, rounded to bytes) when it differs;
/// without `size` every image must have the size of the first. Decoded images are kept in
/// memory as bytes. A file that cannot be decoded is an error naming it, unless `skipBad` is set:
/// then it is left out and counted.
public struct ImageFolderSource: DataSource, Sendable {
    public let layout: ImageFolderLayout
    public let channels: Int
    /// `(height, width)` images are resized to, or `nil` to take the first image's size.
    public let size: (height: Int, width: Int)?
    public let skipBad: Bool
    /// The stored image size: `size`, or the first training image's.
    public let storedSize: (height: Int, width: Int)

    public var name: String { "image-folder" }
    public var classNames: [String] { layout.classNames }
    public var exampleShape: [Int] { [channels, storedSize.height, storedSize.width] }

    /// Scans `root` (and, without `size`, decodes its first image for the size).
    /// - Throws: ``DataError`` naming the folder or file at fault.
    public init(root: String, channels: Int, size: (height: Int, width: Int)?, validFraction: Double?, seed: UInt64,
                skipBad: Bool) throws {
        layout = try ImageFolderLayout.scan(root: root, validFraction: validFraction, seed: seed)
        self.channels = channels
        self.size = size
        self.skipBad = skipBad
        if let size {
            storedSize = size
        } else {
            let first = try ImageDecoder.decode(path: layout.train[0].path, channels: channels)
            storedSize = (first.height, first.width)
        }
    }

    public func load(split: ImageDataset.Split, limit: Int?) throws -> ImageDataset {
        try load(split: split, limit: limit, cache: nil)
    }

    /// Images decoded this many at a time (in parallel), so that with a disk cache no more
    /// than one chunk of decoded images is held in memory.
    static let chunk = 2048

    public func load(split: ImageDataset.Split, limit: Int?, cache: DataCache?) throws -> ImageDataset {
        var files = split == .train ? layout.train : layout.valid
        if let limit { files = Array(files.prefix(limit)) }
        let (h, w) = storedSize
        let exampleSize = channels * h * w
        var sink = try PixelSink(bytes: files.count * exampleSize, cache: cache, name: split.rawValue)
        var labels = [Int32](), skipped = [String]()
        do {
            var start = 0
            while start < files.count {
                let part = files[start..<min(files.count, start + Self.chunk)]
                // Decoded in parallel; each image lands in its own slot, so the result does not depend on timing.
                let results = decodeAll(part.map(\.path), expected: (h, w))
                for (file, result) in zip(part, results) {
                    switch result {
                    case let .success(image):
                        try sink.append(image.bytes)
                        labels.append(Int32(file.label))
                    case let .failure(error):
                        guard skipBad, case .decoding = error.kind else { throw error.error }
                        skipped.append(file.path)
                    }
                }
                start += part.count
            }
        } catch {
            sink.discard()
            throw error
        }
        if !skipped.isEmpty {
            FileHandle.standardError.write(Data("strata: skipped \(skipped.count) undecodable image\(skipped.count == 1 ? "" : "s") of the \(split.rawValue) split of \(layout.root) (data.skip_bad); first: \(skipped[0])\n".utf8))
        }
        var dataset = ImageDataset(storage: try sink.finish(), labels: labels, channels: channels, height: h, width: w, classCount: classNames.count)
        dataset.imagesPath = split == .train ? layout.trainRoot : layout.validRoot
        dataset.fileCount = files.count
        dataset.skippedFiles = skipped
        return dataset
    }

    /// Why one file failed: decoding (skippable) or a size mismatch (never skipped).
    struct Failure: Error, Sendable {
        enum Kind { case decoding, size }
        let kind: Kind
        let error: DataError
    }

    private func decodeAll(_ paths: [String], expected: (Int, Int)) -> [Result<PixelImage, Failure>] {
        let results = UnsafeMutableBufferPointer<Result<PixelImage, Failure>?>.allocate(capacity: paths.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let workers = max(1, min(paths.count, ProcessInfo.processInfo.activeProcessorCount))
        // Each worker writes only its own slots.
        nonisolated(unsafe) let base = results.baseAddress!
        let source = self
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var i = worker
            while i < paths.count {
                base[i] = source.decodeOne(paths[i], expected: expected)
                i += workers
            }
        }
        return results.map { $0! }
    }

    private func decodeOne(_ path: String, expected: (height: Int, width: Int)) -> Result<PixelImage, Failure> {
        let image: PixelImage
        do { image = try ImageDecoder.decode(path: path, channels: channels) } catch let error as DataError {
            return .failure(Failure(kind: .decoding, error: error))
        } catch {
            return .failure(Failure(kind: .decoding, error: .unreadable(path: path, reason: "\(error)")))
        }
        if image.height == expected.height, image.width == expected.width { return .success(image) }
        guard size != nil else {
            return .failure(Failure(kind: .size, error: .invalidValue(
                path: path, offset: 0,
                reason: "the image is \(image.height)×\(image.width) (height × width) but the first is \(expected.height)×\(expected.width); "
                    + "set data.size to resize every image to one size")))
        }
        return .success(Resize.apply(FloatImage(image), height: expected.height, width: expected.width).rounded)
    }
}

/// The files of an image folder: class names and `(path, label)` lists for both splits.
public struct ImageFolderLayout: Sendable {
    public struct File: Sendable, Equatable {
        public let path: String
        public let label: Int
    }

    public let root: String
    public let classNames: [String]
    public let train: [File]
    public let valid: [File]
    /// The folders the splits were read from (for messages).
    public let trainRoot: String
    public let validRoot: String

    /// Reads the layout under `root`.
    ///
    /// - Parameter validFraction: Used when `root` has no `train` folder: this fraction of the
    ///   files (rounded, at least one) is drawn as the test split with a generator seeded by
    ///   `seed`; `nil` means 0.2.
    /// - Throws: ``DataError`` for a missing root, no class folders, an empty class folder, a
    ///   validation folder with a class the training folder lacks, or no validation files.
    public static func scan(root: String, validFraction: Double?, seed: UInt64) throws -> ImageFolderLayout {
        let root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
        guard isDirectory(root) else {
            if FileManager.default.fileExists(atPath: root) { throw DataError.unreadable(path: root, reason: "is not a folder") }
            throw DataError.fileNotFound(path: root, hint: "data.path must name a folder of <class>/<image> sub-folders")
        }
        if isDirectory(root + "/train") {
            let trainRoot = root + "/train"
            let (classes, train) = try listClasses(trainRoot, known: nil)
            guard let validRoot = ["valid", "val", "test"].map({ root + "/" + $0 }).first(where: isDirectory) else {
                throw DataError.fileNotFound(path: root + "/valid", hint: "a folder with a train sub-folder needs a valid (or val, test) sub-folder beside it")
            }
            let (_, valid) = try listClasses(validRoot, known: classes)
            return ImageFolderLayout(root: root, classNames: classes, train: train, valid: valid, trainRoot: trainRoot, validRoot: validRoot)
        }
        let (classes, all) = try listClasses(root, known: nil)
        guard all.count >= 2 else {
            throw DataError.invalidValue(path: root, offset: 0, reason: "holds \(all.count) image; splitting into training and validation needs at least 2")
        }
        let fraction = validFraction ?? 0.2
        let validCount = min(all.count - 1, max(1, Int((fraction * Double(all.count)).rounded())))
        var order = Array(all.indices)
        var random = RandomStream(seed: seed, stream: 0x7661_6C69_6400) // "valid"
        var i = order.count - 1
        while i > 0 {
            order.swapAt(i, Int(random.next(below: UInt64(i + 1))))
            i -= 1
        }
        let validSet = Set(order.prefix(validCount))
        // Both splits keep the folder order (class, then file name).
        let train = all.indices.filter { !validSet.contains($0) }.map { all[$0] }
        let valid = all.indices.filter { validSet.contains($0) }.map { all[$0] }
        return ImageFolderLayout(root: root, classNames: classes, train: train, valid: valid, trainRoot: root, validRoot: root)
    }

    /// Sorted class folders of `folder` and their images. With `known`, every class folder must
    /// be one of those names and labels follow `known`; class folders may then be missing.
    static func listClasses(_ folder: String, known: [String]?) throws -> ([String], [File]) {
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw DataError.unreadable(path: folder, reason: "cannot list the folder")
        }
        let classes = sortedByCodePoint(entries.filter { !$0.hasPrefix(".") && isDirectory(folder + "/" + $0) })
        guard !classes.isEmpty else {
            throw DataError.invalidValue(path: folder, offset: 0, reason: "has no class sub-folders; expected <class>/<image> (torchvision's ImageFolder layout)")
        }
        let names = known ?? classes
        var files: [File] = []
        for name in classes {
            guard let label = names.firstIndex(of: name) else {
                throw DataError.invalidValue(path: folder + "/" + name, offset: 0,
                                             reason: "is a class the training folder does not have (classes: \(names.joined(separator: ", ")))")
            }
            let images = imagesUnder(folder + "/" + name)
            guard !images.isEmpty else {
                throw DataError.invalidValue(path: folder + "/" + name, offset: 0, reason: "the class folder holds no .png, .jpg or .jpeg image")
            }
            files += images.map { File(path: $0, label: label) }
        }
        return (classes, files)
    }

    /// Image files under `folder`, recursively, sorted by path within each folder.
    static func imagesUnder(_ folder: String, depth: Int = 0) -> [String] {
        guard depth < 32, let entries = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var out: [String] = []
        for name in sortedByCodePoint(entries) where !name.hasPrefix(".") {
            let path = folder + "/" + name
            if isDirectory(path) {
                out += imagesUnder(path, depth: depth + 1)
            } else if let dot = name.lastIndex(of: "."), ImageDecoder.extensions.contains(name[name.index(after: dot)...].lowercased()) {
                out.append(path)
            }
        }
        return out
    }

    static func sortedByCodePoint(_ names: [String]) -> [String] {
        names.sorted { Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) }
    }

    static func isDirectory(_ path: String) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }
}
