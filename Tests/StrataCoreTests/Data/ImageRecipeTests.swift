import Foundation
import Testing
@testable import StrataCore

@Suite("Image data in recipes")
struct ImageRecipeTests {
    let registry = ComponentRegistry.builtIn()

    static let model = """
    {"kind": "sequential", "layers": [
      {"kind": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1}, {"kind": "relu"},
      {"kind": "adaptive_avgpool2d"}, {"kind": "flatten"}, {"kind": "linear", "out_features": 3}]}
    """

    func recipe(_ data: String, epochs: Int = 1) -> String {
        #"{"name": "images", "epochs": \#(epochs), "batch_size": 4, "data": \#(data), "model": \#(Self.model), "optimizer": {"kind": "sgd", "lr": 0.05}}"#
    }

    func errors(_ text: String) throws -> [String] {
        let file = RecipeFixtures.write(text)
        do {
            _ = try Recipe.load(file: file, registry: registry)
            return []
        } catch let e as RecipeValidationError {
            return e.errors.map(\.description)
        }
    }

    @Test func badOptionValuesAreRefusedAtTheirPath() throws {
        try DataTestFiles.withDirectory { dir in
            try ImageSourceTests.folder(dir, [("a", 2), ("b", 2), ("c", 2)])
            let found = try errors(recipe("""
            {"dataset": "image-folder", "path": "\(dir)", "channels": 2, "size": [0, 8], "valid_fraction": 1.5,
             "train_transforms": [{"kind": "normalize", "mean": [0.5], "std": [0.2]}, {"kind": "flip", "p": 2},
               {"kind": "random_resized_crop", "size": 8, "scale": [0.9, 0.1]}, {"kind": "twirl"}],
             "eval_transforms": {"kind": "resize"}, "augment": {"pad": 2}}
            """))
            let expected = [
                "$.data.channels: expected 1 (grey) or 3 (RGB)",
                "$.data.size[0]: 0 is out of range 1...4096",
                "$.data.train_transforms[1]: comes after normalize, which must be the last step",
                "$.data.train_transforms[1].p: 2.0 is out of range (at least 0.0, at most 1.0)",
                "$.data.train_transforms[2].scale: expected [low, high] with 0.0001 ≤ low ≤ high ≤ 1.0",
                "$.data.eval_transforms: expected an array of up to 32 transforms, e.g. [{\"kind\": \"pad_crop\", \"pad\": 4}, {\"kind\": \"flip\"}]",
                "$.data.augment: cannot be combined with train_transforms/eval_transforms (put a normalize or pad_crop step in the lists)",
            ]
            for e in expected { #expect(found.contains(e), "missing: \(e)\nfound: \(found)") }
            #expect(found.contains { $0.hasPrefix("$.data.valid_fraction: 1.5 is out of range") }, "\(found)")
            #expect(found.contains { $0.hasPrefix("$.data.train_transforms[3].kind: unknown value \"twirl\"") }, "\(found)")
        }
    }

    @Test func folderProblemsAreRecipeErrorsAtThePath() throws {
        let found = try errors(recipe(#"{"dataset": "image-folder", "path": "/nonexistent/images"}"#))
        #expect(found == ["$.data.path: /nonexistent/images: no such file (data.path must name a folder of <class>/<image> sub-folders)"])
        let missing = try errors(recipe(#"{"dataset": "cifar10-binary"}"#))
        #expect(missing == ["$.data.path: is required for \"cifar10-binary\" (the folder holding the data)"])
    }

    @Test func transformShapesMustAgree() throws {
        try DataTestFiles.withDirectory { dir in
            try ImageSourceTests.folder(dir, [("a", 2), ("b", 2), ("c", 2)])
            let found = try errors(recipe("""
            {"dataset": "image-folder", "path": "\(dir)", "size": 12,
             "train_transforms": [{"kind": "random_resized_crop", "size": 8}], "eval_transforms": [{"kind": "center_crop", "size": 10}]}
            """))
            #expect(found == ["$.data.eval_transforms: makes 3×10×10 inputs from the stored 3×12×12 images but train_transforms make 3×8×8; both must give the model one shape"])
        }
    }

    /// An image folder trains end to end, the model is built for the transformed size, automatic
    /// statistics are recorded, and the same seed gives the same figures bit for bit.
    @Test func trainsFromAnImageFolderReproducibly() throws {
        try DataTestFiles.withDirectory { dir in
            try ImageSourceTests.folder(dir + "/train", [("a", 6), ("b", 6), ("c", 6)], size: (10, 9))
            try ImageSourceTests.folder(dir + "/valid", [("a", 2), ("b", 2), ("c", 2)], size: (10, 9))
            let text = recipe("""
            {"dataset": "image-folder", "path": "\(dir)", "size": [12, 12],
             "train_transforms": [{"kind": "random_resized_crop", "size": 8, "scale": [0.5, 1]}, {"kind": "flip"}, {"kind": "normalize", "mean": "auto"}],
             "eval_transforms": [{"kind": "center_crop", "size": 8}, {"kind": "normalize", "mean": "auto"}]}
            """, epochs: 2)
            let file = RecipeFixtures.write(text)
            var finals: [Double] = []
            for run in 0..<2 {
                let recipe = try Recipe.load(file: file, registry: registry)
                let experiment = try Experiment(recipe: recipe, registry: registry, file: file)
                #expect(experiment.model.exampleShape == [3, 8, 8])
                let out = URL(fileURLWithPath: dir + "/run\(run)")
                let summary = try experiment.run(directory: out, recipeText: text)
                finals.append(try #require(summary.final?.trainLoss))
                let stats = try JSONParser.parse(DataTestFiles.contents(of: out.path + "/normalization.json"))
                #expect(stats["examples"] == .number(18))
            }
            #expect(finals[0] == finals[1])
            #expect(finals[0].isFinite)

            // Prediction with the last checkpoint: the run's recorded statistics, probabilities summing to 1.
            let recipe = try Recipe.load(file: file, registry: registry)
            let experiment = try Experiment(recipe: recipe, registry: registry, file: file)
            let checkpoint = dir + "/run0/checkpoints/last.safetensors"
            _ = try Checkpointer(model: experiment.model, optimizer: nil)
                .load(from: URL(fileURLWithPath: checkpoint), optimizerState: false, allowNonFinite: false)
            let predictor = try ImagePrediction(experiment: experiment, checkpoint: checkpoint)
            guard case let .fixed(n) = predictor.pipeline.normalization else { Issue.record("normalisation unresolved"); return }
            #expect(try n == experiment.loadData().train.channelStatistics())
            let results = try predictor.predict(paths: [dir + "/valid/b/0.png"], top: 3)
            #expect(results[0].top.map(\.name).sorted() == ["a", "b", "c"])
            #expect(abs(results[0].top.map(\.probability).reduce(0, +) - 1) < 1e-9)
            #expect(results[0].top[0].probability >= results[0].top[1].probability)
            let bad = DataTestFiles.capture { _ = try predictor.predict(paths: [dir + "/missing.png"], top: 1) }
            #expect(bad?.path == dir + "/missing.png")
        }
    }
}
