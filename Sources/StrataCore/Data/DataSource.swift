/// A source of labelled examples: what a recipe's `data.dataset` names.
///
/// A source knows the shape of one example (C×H×W) and its class names without reading the data,
/// so a model can be built and checked (`strata summary`) before any data moves; `load` reads a
/// split. Everything downstream takes its geometry from here.
public protocol DataSource {
    /// The name a recipe uses (`"fashion-mnist"`).
    var name: String { get }
    /// Shape of one example, channels first, e.g. `[1, 28, 28]`.
    var exampleShape: [Int] { get }
    /// Class names by label.
    var classNames: [String] { get }
    /// One split, at most `limit` examples (the first ones) when given.
    func load(split: ImageDataset.Split, limit: Int?) throws -> ImageDataset
    /// The same, with decoded images beyond `cache`'s memory budget in a cache file (sources
    /// that decode images honour it; the others read their files into memory).
    func load(split: ImageDataset.Split, limit: Int?, cache: DataCache?) throws -> ImageDataset
}

extension DataSource {
    public var classCount: Int { classNames.count }

    public func load(split: ImageDataset.Split, limit: Int?, cache: DataCache?) throws -> ImageDataset {
        try load(split: split, limit: limit)
    }
}

/// The data sources a recipe may name, each made from the recipe's `data` object.
public enum DataSources {
    /// Source names, in the order `strata` lists them.
    public static let names = ["fashion-mnist", "image-folder", "cifar10-binary"]

    /// The source a recipe's data options name.
    public static func source(for options: Recipe.DataOptions) -> any DataSource {
        switch options.dataset {
        case "cifar10-binary": return CIFAR10BinarySource(directory: options.path)
        case "image-folder":
            let size = options.size
            return (try? ImageFolderSource(root: options.path, channels: options.channels, size: size,
                                           validFraction: options.validFraction, seed: 0, skipBad: options.skipBad))
                ?? EmptySource(exampleShape: [options.channels, size?.height ?? 1, size?.width ?? 1])
        default: return FashionMNISTSource(directory: options.path)
        }
    }
}

/// Fashion-MNIST in IDX files (gzip or not): 1×28×28 grey images of 10 classes; by default
/// Debian's `dataset-fashion-mnist`.
public struct FashionMNISTSource: DataSource {
    public let directory: String
    public var name: String { "fashion-mnist" }
    public var exampleShape: [Int] { [1, 28, 28] }
    public var classNames: [String] { FashionMNIST.classNames }

    public func load(split: ImageDataset.Split, limit: Int?) throws -> ImageDataset {
        try FashionMNIST.load(directory: directory, split: split, limit: limit)
    }
}
