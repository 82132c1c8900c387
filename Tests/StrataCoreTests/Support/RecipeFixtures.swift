import Foundation
@testable import StrataCore

/// Recipes for tests, written to a temporary folder.
enum RecipeFixtures {
    /// Reads the recipe `file` and builds its experiment (every component constructed, no data
    /// read): what a run does before training, so a component that refuses its options fails here.
    @discardableResult
    static func build(file: String, registry: ComponentRegistry) throws -> Experiment {
        try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
    }

    static let fashionDirectory = FashionMNIST.defaultDirectory
    static var hasFashionMNIST: Bool {
        FileManager.default.fileExists(atPath: fashionDirectory + "/train-images-idx3-ubyte.gz")
    }

    /// The repository root, found from this file's path.
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// A fresh temporary directory.
    static func temporaryDirectory(_ name: String = "strata-test") -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `text` to a temporary `.json` file and returns its path.
    static func write(_ text: String, name: String = "recipe") -> String {
        let url = temporaryDirectory().appendingPathComponent("\(name).json")
        try? Data(text.utf8).write(to: url)
        return url.path
    }

    /// A small ReLU CNN trained with Adam on a slice of Fashion-MNIST.
    static let smallCNN = """
    {
      "name": "small-cnn", "seed": 7, "epochs": 2, "batch_size": 128,
      "data": {"dataset": "fashion-mnist", "train_limit": 8000, "test_limit": 2000},
      "model": {"kind": "sequential", "layers": [
        {"kind": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1},
        {"kind": "batchnorm2d"},
        {"kind": "relu"},
        {"kind": "maxpool2d", "kernel_size": 2},
        {"kind": "residual", "body": {"kind": "sequential", "layers": [
          {"kind": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1, "bias": false},
          {"kind": "relu"}]}},
        {"kind": "avgpool2d", "kernel_size": 2},
        {"kind": "flatten"},
        {"kind": "dropout", "p": 0.1},
        {"kind": "linear", "out_features": 10}]},
      "optimizer": {"kind": "adam", "lr": 0.01},
      "callbacks": [{"kind": "metrics_log"}, {"kind": "plot"}, {"kind": "checkpoint", "every": 1, "keep_last": 1}]
    }
    """
}
