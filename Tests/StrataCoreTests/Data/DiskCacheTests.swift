import Foundation
import Testing
@testable import StrataCore

/// Decoded images beyond the memory budget go to a mapped cache file; batches are the same bit
/// for bit as from memory.
@Suite("Disk cache of decoded images")
struct DiskCacheTests {
    /// Every batch of two epochs through a random pipeline (prefetched), as arrays.
    func batches(_ dataset: ImageDataset, pipeline: TransformPipeline) throws -> [[Float]] {
        let loader = try BatchLoader(dataset: dataset, batchSize: 5, mode: .training(seed: 3), normalization: nil, pipeline: pipeline)
        let input = loader.makeInputTensor()
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: 5)
        defer { labels.deallocate() }
        var out: [[Float]] = []
        for epoch in 0..<2 {
            loader.startEpoch(epoch)
            while let n = loader.nextBatch(into: input, labels: labels) {
                out.append(Array(UnsafeBufferPointer(start: input.data, count: n * input.count / 5)) + (0..<n).map { Float(labels[$0]) })
            }
        }
        return out
    }

    @Test func tinyBudgetGivesTheSameBatchesAsMemory() throws {
        try DataTestFiles.withDirectory { dir in
            try ImageSourceTests.folder(dir + "/data", [("a", 7), ("b", 6), ("c", 5)], size: (9, 7))
            let source = try ImageFolderSource(root: dir + "/data", channels: 3, size: (8, 8), validFraction: 0.2, seed: 1, skipBad: false)
            let inMemory = try source.load(split: .train, limit: nil, cache: DataCache(memoryBytes: 1 << 30, directory: dir + "/cache"))
            let onDisk = try source.load(split: .train, limit: nil, cache: DataCache(memoryBytes: 100, directory: dir + "/cache"))
            #expect(!inMemory.isCachedOnDisk)
            #expect(onDisk.isCachedOnDisk)
            guard case let .file(file) = onDisk.storage else { return }
            // One flat uint8 file of [N, C, H, W] bytes in the cache folder.
            #expect(file.path.hasPrefix(dir + "/cache/train-"))
            #expect(try DataTestFiles.contents(of: file.path) == inMemory.pixels)
            #expect(onDisk.pixels == inMemory.pixels && onDisk.labels == inMemory.labels && onDisk.count == 14)
            let pipeline = TransformPipeline(transforms: [.padCrop(pad: 2), .horizontalFlip(probability: 0.5)], normalization: .fixed(.init(mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.2])))
            let fromDisk = try batches(onDisk, pipeline: pipeline)
            #expect(fromDisk == (try batches(inMemory, pipeline: pipeline)))
            #expect(fromDisk.count == 6)
            #expect(onDisk.channelStatistics() == inMemory.channelStatistics())
        }
        // (The cache file goes with the data set.)
    }

    @Test func cacheFileIsRemovedWithTheDataSet() throws {
        try DataTestFiles.withDirectory { dir in
            try ImageSourceTests.folder(dir + "/data", [("a", 3), ("b", 3)])
            let source = try ImageFolderSource(root: dir + "/data", channels: 1, size: nil, validFraction: 0.5, seed: 1, skipBad: false)
            var path = ""
            do {
                let data = try source.load(split: .test, limit: nil, cache: DataCache(memoryBytes: 0, directory: dir + "/cache"))
                guard case let .file(file) = data.storage else { Issue.record("not cached"); return }
                path = file.path
                #expect(FileManager.default.fileExists(atPath: path))
                #expect(data.count == 3)
            }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    /// A run with `data.cache.memory_mb: 0` trains to the same figures, bit for bit, as one
    /// from memory; the budget is refused out of range at its path.
    @Test func runWithZeroBudgetMatchesMemory() throws {
        try DataTestFiles.withDirectory { dir in
            try ImageSourceTests.folder(dir + "/data/train", [("a", 6), ("b", 6), ("c", 6)], size: (10, 9))
            try ImageSourceTests.folder(dir + "/data/valid", [("a", 2), ("b", 2), ("c", 2)], size: (10, 9))
            let registry = ComponentRegistry.builtIn()
            var losses: [[Double]] = []
            for budget in ["", #", "cache": {"memory_mb": 0}"#] {
                let text = """
                {"name": "cache", "epochs": 2, "batch_size": 4, "model": \(ImageRecipeTests.model), "optimizer": {"kind": "sgd", "lr": 0.05},
                 "callbacks": [], "data": {"dataset": "image-folder", "path": "\(dir)/data", "size": 8\(budget),
                 "train_transforms": [{"kind": "pad_crop", "pad": 2}, {"kind": "flip"}, {"kind": "normalize", "mean": "auto"}]}}
                """
                let file = RecipeFixtures.write(text, name: "cache-run")
                let experiment = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
                let summary = try experiment.run(directory: URL(fileURLWithPath: dir + "/run\(losses.count)"), recipeText: text)
                losses.append(summary.records.flatMap { [$0.trainLoss, $0.testLoss] })
            }
            #expect(losses[0] == losses[1])
            #expect(losses[0].allSatisfy { $0.isFinite })
            // The cache files went with the run's data.
            let left = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/run1/cache")) ?? []
            #expect(left.isEmpty)
            let bad = RecipeFixtures.write(#"{"epochs": 1, "model": {"kind": "flatten"}, "optimizer": {"kind": "sgd", "lr": 0.1}, "data": {"dataset": "image-folder", "path": "\#(dir)/data", "cache": {"memory_mb": -1}}}"#, name: "cache-bad")
            do {
                _ = try Recipe.load(file: bad, registry: registry)
                Issue.record("a negative budget was accepted")
            } catch let e as RecipeValidationError {
                #expect(e.errors.map(\.description).contains { $0.hasPrefix("$.data.cache.memory_mb: -1 is out of range") }, "\(e.errors)")
            }
        }
    }
}
