#if canImport(Glibc)
import Glibc
#endif

/// A labelled image data set held in memory.
///
/// Pixels stay as bytes, `[count, channels, height, width]` row-major, so Fashion-MNIST's 60 000
/// training images take 47 MB rather than 188 MB as floats; ``BatchLoader`` converts them to
/// float one batch at a time. Labels are class indices in `0..<classCount`.
public struct ImageDataset: Sendable {
    /// Which part of a data set to load.
    public enum Split: String, Sendable, CaseIterable {
        /// The training examples.
        case train
        /// The held-out test examples.
        case test
    }

    /// Number of examples.
    public let count: Int
    /// Channels per image (1 for grey, 3 for RGB).
    public let channels: Int
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int
    /// Number of classes; every label lies in `0..<classCount`.
    public let classCount: Int
    /// Pixel values 0...255, `[count, channels, height, width]` row-major, in memory or in the
    /// disk cache.
    public let storage: PixelStorage
    /// The pixels as an array (a copy when they are in the disk cache; batch code reads them
    /// in place through ``withPixels(_:)``).
    public var pixels: [UInt8] {
        switch storage {
        case let .memory(bytes): return bytes
        case .file: return storage.withBytes { Array($0) }
        }
    }
    /// Whether the pixels are in the disk cache rather than in memory.
    public var isCachedOnDisk: Bool {
        if case .file = storage { return true }
        return false
    }
    /// Class index of each example, `[count]`.
    public let labels: [Int32]
    /// The images file this data set was read from (`nil` when built in memory), for messages.
    public internal(set) var imagesPath: String? = nil
    /// Examples in that file before `limit` or a class selection kept some of them.
    public internal(set) var fileCount = 0
    /// Files left out because they could not be decoded (`data.skip_bad`), for the record.
    public internal(set) var skippedFiles: [String] = []

    /// A data set over existing pixels and labels.
    ///
    /// `pixels.count` must be `labels.count × channels × height × width`; a loader checks file
    /// contents (and throws ``DataError``) before it gets here.
    public init(pixels: [UInt8], labels: [Int32], channels: Int, height: Int, width: Int, classCount: Int) {
        self.init(storage: .memory(pixels), labels: labels, channels: channels, height: height, width: width, classCount: classCount)
    }

    /// A data set over pixels in memory or in the disk cache (same conditions).
    public init(storage: PixelStorage, labels: [Int32], channels: Int, height: Int, width: Int, classCount: Int) {
        precondition(channels > 0 && height > 0 && width > 0, "image dimensions must be positive")
        precondition(storage.count == labels.count * channels * height * width,
                     "\(storage.count) pixels do not make \(labels.count) images of \(channels)×\(height)×\(width)")
        self.count = labels.count
        self.channels = channels
        self.height = height
        self.width = width
        self.classCount = classCount
        self.storage = storage
        self.labels = labels
    }

    /// Runs `body` over the pixels, `[count, C, H, W]` bytes, wherever they are.
    public func withPixels<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try storage.withBytes(body)
    }

    /// Pixels per example: `channels × height × width`.
    public var exampleSize: Int { channels * height * width }

    /// Shape of one example, `[channels, height, width]`.
    public var exampleShape: [Int] { [channels, height, width] }

    /// The first `k` examples (all of them if `k >= count`), in a new data set.
    public func prefix(_ k: Int) -> ImageDataset {
        let kept = max(0, min(k, count))
        if kept == count { return self }
        var result = ImageDataset(
            pixels: withPixels { Array($0[0..<(kept * exampleSize)]) }, labels: Array(labels[0..<kept]),
            channels: channels, height: height, width: width, classCount: classCount)
        (result.imagesPath, result.fileCount, result.skippedFiles) = (imagesPath, fileCount, skippedFiles)
        return result
    }

    /// Only the examples whose label is in `classes`, relabelled by position in `classes`
    /// (`[0, 6]` keeps T-shirts as class 0 and shirts as class 1), in their original order.
    public func selecting(classes: [Int]) -> ImageDataset {
        var map = [Int32](repeating: -1, count: max(classCount, 1))
        for (i, c) in classes.enumerated() where c >= 0 && c < classCount { map[c] = Int32(i) }
        var keptPixels: [UInt8] = []
        var keptLabels: [Int32] = []
        withPixels { pixels in
            for i in 0..<count {
                let m = map[Int(labels[i])]
                guard m >= 0 else { continue }
                keptLabels.append(m)
                keptPixels.append(contentsOf: pixels[(i * exampleSize)..<((i + 1) * exampleSize)])
            }
        }
        var result = ImageDataset(pixels: keptPixels, labels: keptLabels, channels: channels, height: height, width: width,
                                  classCount: classes.count)
        (result.imagesPath, result.fileCount, result.skippedFiles) = (imagesPath, fileCount, skippedFiles)
        return result
    }

    /// Loads a data set from an IDX images file and an IDX labels file (plain or gzip).
    ///
    /// - Parameters:
    ///   - imagesPath: Rank-3 unsigned-byte IDX file, `[count, height, width]`.
    ///   - labelsPath: Rank-1 unsigned-byte IDX file, `[count]`.
    ///   - classCount: Number of classes; a label outside `0..<classCount` is an error.
    ///   - limit: Keep only the first `limit` examples (`nil` keeps all).
    ///   - hint: How to obtain the files, added to the error when one does not exist.
    /// - Throws: ``DataError`` naming the file and byte offset of any problem, including image
    ///   and label files that disagree on the number of examples.
    public static func loadIDX(
        imagesPath: String, labelsPath: String, classCount: Int, limit: Int? = nil, hint: String? = nil
    ) throws -> ImageDataset {
        if let limit, limit < 0 {
            throw DataError.invalidOption(name: "limit", value: "\(limit)", reason: "must be at least 0")
        }
        let labelArray = try IDX.read(path: labelsPath, rank: 1, hint: hint)
        let imageArray = try IDX.read(path: imagesPath, rank: 3, hint: hint)
        guard imageArray.dimensions[0] == labelArray.dimensions[0] else {
            throw DataError.countMismatch(
                path: imagesPath, count: imageArray.dimensions[0], otherPath: labelsPath,
                otherCount: labelArray.dimensions[0])
        }
        // Offsets 8 and 12 hold the height and the width; an image needs both.
        for (axis, name) in [(1, "height"), (2, "width")] where imageArray.dimensions[axis] == 0 {
            throw DataError.invalidValue(path: imagesPath, offset: 4 + 4 * axis, reason: "the image \(name) is 0; images need at least one pixel")
        }
        let labelDataOffset = 8 // magic + one dimension
        var labels = [Int32](repeating: 0, count: labelArray.bytes.count)
        for (index, byte) in labelArray.bytes.enumerated() {
            guard Int(byte) < classCount else {
                throw DataError.invalidValue(
                    path: labelsPath, offset: labelDataOffset + index,
                    reason: "label \(byte) of example \(index) is outside 0..<\(classCount)")
            }
            labels[index] = Int32(byte)
        }
        var dataset = ImageDataset(
            pixels: imageArray.bytes, labels: labels, channels: 1, height: imageArray.dimensions[1],
            width: imageArray.dimensions[2], classCount: classCount)
        (dataset.imagesPath, dataset.fileCount) = (imagesPath, dataset.count)
        return limit.map { dataset.prefix($0) } ?? dataset
    }
}

/// Fashion-MNIST (Zalando): 28×28 grey images of clothing in 10 classes, 60 000 for training and
/// 10 000 for testing, in MNIST's IDX format.
///
/// The default location is where Debian's `dataset-fashion-mnist` package installs it.
public enum FashionMNIST {
    /// Where Debian's `dataset-fashion-mnist` package puts the files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    /// Class names, indexed by label.
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// How to get the files when they are missing.
    public static let installHint =
        "install Debian's dataset-fashion-mnist package, or pass the directory holding the four *-ubyte.gz files"

    /// The images and labels file names of `split` (gzip-compressed, as distributed).
    public static func fileNames(for split: ImageDataset.Split) -> (images: String, labels: String) {
        switch split {
        case .train: return ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")
        case .test: return ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
        }
    }

    /// Loads one split of Fashion-MNIST.
    ///
    /// Each file is looked up first under its distributed name (`….gz`) and then without the
    /// `.gz` suffix, so an unpacked copy works too.
    ///
    /// - Parameters:
    ///   - directory: The folder holding the four IDX files.
    ///   - split: ``ImageDataset/Split/train`` (60 000 examples) or ``ImageDataset/Split/test`` (10 000).
    ///   - limit: Keep only the first `limit` examples (`nil` keeps all).
    /// - Returns: A data set of `[count, 1, 28, 28]` pixels and labels in `0..<10`.
    /// - Throws: ``DataError`` naming the file and byte offset of any problem.
    public static func load(
        directory: String = defaultDirectory, split: ImageDataset.Split, limit: Int? = nil
    ) throws -> ImageDataset {
        let names = fileNames(for: split)
        return try ImageDataset.loadIDX(
            imagesPath: locate(names.images, in: directory), labelsPath: locate(names.labels, in: directory),
            classCount: classNames.count, limit: limit, hint: installHint)
    }

    /// `directory/name` if it exists, else the same without `.gz` if that exists, else `directory/name`
    /// (whose absence the reader then reports).
    private static func locate(_ name: String, in directory: String) -> String {
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let compressed = base + "/" + name
        if access(compressed, F_OK) == 0 { return compressed }
        let plain = String(compressed.dropLast(3))
        if name.hasSuffix(".gz"), access(plain, F_OK) == 0 { return plain }
        return compressed
    }
}
