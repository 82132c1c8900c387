import Foundation
import Testing
@testable import StrataCore

/// `"mean": "auto"` statistics travel with the checkpoint: evaluation and prediction use the
/// training run's values, not the data folder's as it is later.
@Suite("Automatic normalisation in checkpoints")
struct NormalizationRecordTests {
    let registry = ComponentRegistry.builtIn()

    func recipe(_ path: String, auto: Bool = true) -> String {
        let normalize = auto ? #"{"kind": "normalize", "mean": "auto"}"# : #"{"kind": "normalize", "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}"#
        return """
        {"name": "auto", "epochs": 1, "batch_size": 4, "model": \(ImageRecipeTests.model), "optimizer": {"kind": "sgd", "lr": 0.05},
         "data": {"dataset": "image-folder", "path": "\(path)", "size": 8,
                  "train_transforms": [{"kind": "flip"}, \(normalize)], "eval_transforms": [\(normalize)]}}
        """
    }

    /// Trains one epoch into `dir/run` and returns the experiment and the last checkpoint.
    func train(_ text: String, into dir: String) throws -> (Experiment, String) {
        let file = RecipeFixtures.write(text, name: "auto-\(UUID().uuidString.prefix(8))")
        let experiment = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
        _ = try experiment.run(directory: URL(fileURLWithPath: dir + "/run"), recipeText: text)
        return (experiment, dir + "/run/checkpoints/last.safetensors")
    }

    /// A copy of the folder's layout whose images are all one bright grey: other statistics.
    func brightFolder(_ root: String) throws {
        for split in ["train", "valid"] {
            for name in ["a", "b", "c"] {
                try FileManager.default.createDirectory(atPath: "\(root)/\(split)/\(name)", withIntermediateDirectories: true)
                for i in 0..<2 {
                    let image = PixelImage(channels: 3, height: 8, width: 8, bytes: [UInt8](repeating: UInt8(200 + i * 20), count: 192))
                    try ImageDecoder.writePNG(image, to: "\(root)/\(split)/\(name)/\(i).png")
                }
            }
        }
    }

    @Test func checkpointRecordsTheStatisticsAndPredictionUsesThem() throws {
        try DataTestFiles.withDirectory { dir in
            try ImageSourceTests.folder(dir + "/data/train", [("a", 4), ("b", 4), ("c", 4)], size: (8, 8))
            try ImageSourceTests.folder(dir + "/data/valid", [("a", 1), ("b", 1), ("c", 1)], size: (8, 8))
            let (experiment, checkpoint) = try train(recipe(dir + "/data"), into: dir)
            let trained = try experiment.loadData().train.channelStatistics()

            // The metadata holds the statistics of the 12 training images, bit for bit.
            let metadata = try SafeTensors.metadata(of: URL(fileURLWithPath: checkpoint))
            let record = try #require(try NormalizationRecord.inCheckpoint(metadata, path: checkpoint, channels: 3))
            #expect(record.statistics == trained)
            #expect(record.examples == 12)

            // The data folder changes and normalization.json is gone: prediction still uses the
            // checkpoint's statistics and gives the same probabilities as with the original folder.
            try FileManager.default.removeItem(atPath: dir + "/run/normalization.json")
            let image = dir + "/data/valid/b/0.png"
            let original = try predict(recipe(dir + "/data"), checkpoint: checkpoint, image: image)
            try brightFolder(dir + "/bright")
            let changedFile = RecipeFixtures.write(recipe(dir + "/bright"), name: "auto-bright")
            let changed = try Experiment(recipe: try Recipe.load(file: changedFile, registry: registry), registry: registry, file: changedFile)
            #expect(try changed.loadData().train.channelStatistics() != trained)
            _ = try Checkpointer(model: changed.model, optimizer: nil).load(from: URL(fileURLWithPath: checkpoint), optimizerState: false)
            let predictor = try ImagePrediction(experiment: changed, checkpoint: checkpoint)
            #expect(predictor.pipeline.normalization == .fixed(trained))
            let moved = try predictor.predict(paths: [image], top: 3)
            #expect(moved[0].top.map(\.label) == original[0].top.map(\.label))
            #expect(moved[0].top.map(\.probability) == original[0].top.map(\.probability))

            // strata eval with the changed folder evaluates with the recorded statistics too.
            let evaluated = try changed.evaluate(normalization: record)
            #expect(evaluated.examples == 6)
            #expect(try NormalizationRecord.required(by: changed.recipe.data, checkpoint: checkpoint, metadata: metadata, channels: 3) == record)
        }
    }

    func predict(_ text: String, checkpoint: String, image: String) throws -> [ImagePrediction.Result] {
        let file = RecipeFixtures.write(text, name: "auto-predict")
        let experiment = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
        _ = try Checkpointer(model: experiment.model, optimizer: nil).load(from: URL(fileURLWithPath: checkpoint), optimizerState: false)
        return try ImagePrediction(experiment: experiment, checkpoint: checkpoint).predict(paths: [image], top: 3)
    }

    /// A checkpoint of a run with given statistics records none; evaluating or predicting with
    /// an automatic recipe is then refused (exit 2) rather than recomputed from the folder.
    @Test func checkpointWithoutStatisticsIsRefusedForAnAutomaticRecipe() throws {
        try DataTestFiles.withDirectory { dir in
            try ImageSourceTests.folder(dir + "/data/train", [("a", 2), ("b", 2), ("c", 2)], size: (8, 8))
            try ImageSourceTests.folder(dir + "/data/valid", [("a", 1), ("b", 1), ("c", 1)], size: (8, 8))
            let (_, checkpoint) = try train(recipe(dir + "/data", auto: false), into: dir)
            let metadata = try SafeTensors.metadata(of: URL(fileURLWithPath: checkpoint))
            #expect(metadata[NormalizationRecord.metadataKey] == nil)
            #expect(!FileManager.default.fileExists(atPath: dir + "/run/normalization.json"))
            let auto = RecipeFixtures.write(recipe(dir + "/data"), name: "auto-refused")
            for command in [["eval", auto, "--checkpoint", checkpoint], ["predict", auto, "--checkpoint", checkpoint, dir + "/data/valid/a/0.png"]] {
                let (status, _, err) = try runStrata(command)
                #expect(status == 2, "\(command[0]): \(err)")
                #expect(err.contains("\(checkpoint): the recipe normalises with \"mean\": \"auto\" but the checkpoint records no statistics"), "\(err)")
            }
        }
    }

    @Test func badRecordsAreNamed() throws {
        for (text, why) in [("{\"mean\": [0.5], \"std\": [0.2]}", "1 means and 1 stds for images of 3 channels"),
                            ("{\"mean\": [0.5, 0.5, 0.5], \"std\": [0.2, 0, 0.2]}", "a std is not greater than 0"),
                            ("[1", "not valid JSON")] {
            #expect(throws: CoreError.self) { try NormalizationRecord.inCheckpoint([NormalizationRecord.metadataKey: text], path: "x.safetensors", channels: 3) }
            do {
                _ = try NormalizationRecord.inCheckpoint([NormalizationRecord.metadataKey: text], path: "x.safetensors", channels: 3)
            } catch {
                #expect("\(error)".contains("x.safetensors: the metadata strata.normalization: \(why)"), "\(error)")
            }
        }
    }
}
