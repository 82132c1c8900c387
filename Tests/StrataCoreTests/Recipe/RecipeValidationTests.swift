import Foundation
import Testing
@testable import StrataCore

@Suite("Recipe validation: every error, with its JSON path")
struct RecipeValidationTests {
    let registry = ComponentRegistry.builtIn()

    func errors(_ text: String) throws -> [String] {
        let file = RecipeFixtures.write(text)
        do {
            let r = try Recipe.load(file: file, registry: registry)
            _ = try Experiment(recipe: r, registry: registry, file: file)
            return []
        } catch let e as RecipeValidationError {
            #expect(e.file == file)
            return e.errors.map(\.description)
        }
    }

    @Test func reportsEveryProblemAtOnce() throws {
        let found = try errors("""
        {"epochs": 0, "batch_size": "big", "colour": "red",
         "optimizer": {"kind": "sgd", "lr": "fast", "momentum": 2},
         "loss": {"kind": "hinge"},
         "callbacks": [{"kind": "progress"}, {"kind": "tensorboard"}],
         "model": {"kind": "sequential", "layers": []}}
        """)
        let expected = [
            "$.epochs: 0 is out of range 1...100000",
            "$.batch_size: expected an integer, got string \"big\"",
            "$.optimizer.lr: expected a number, got string \"fast\"",
            "$.optimizer.momentum: 2.0 is out of range (at least 0.0, at most 1.0)",
            "$.loss.kind: unknown loss kind \"hinge\"; known kinds: cross_entropy, mixture_nll, mse, nll; kinds from plugins need them installed (`strata plugins` lists them)",
            "$.callbacks[1].kind: unknown callback kind \"tensorboard\"; known kinds: activation_stats, checkpoint, early_stop, lr_schedule, metrics_log, plot, progress",
        ]
        for e in expected { #expect(found.contains(e), "missing: \(e)\nfound: \(found)") }
        #expect(found.contains { $0.hasPrefix("$.colour: unknown key") })
    }

    @Test func modelErrorsNameTheLayerPath() throws {
        let found = try errors("""
        {"epochs": 1, "optimizer": {"kind": "sgd", "lr": 0.1},
         "model": {"kind": "sequential", "layers": [
           {"kind": "conv2d", "out_channels": 4},
           {"kind": "conv3d"},
           {"kind": "linear", "out_features": -3, "bias": "yes"},
           {"kind": "relu", "inplace": true}]}}
        """)
        #expect(found.contains("$.model.layers[0].kernel_size: is required"))
        #expect(found.contains { $0.hasPrefix("$.model.layers[1].kind: unknown layer kind \"conv3d\"; known kinds: ") })
        #expect(found.contains("$.model.layers[2].out_features: -3 is out of range 1...1048576"))
        #expect(found.contains("$.model.layers[2].bias: expected true or false, got string \"yes\""))
        #expect(found.contains { $0.hasPrefix("$.model.layers[3].inplace: unknown key") })
    }

    @Test func shapeErrorsNameTheLayer() throws {
        let file = RecipeFixtures.write("""
        {"epochs": 1, "optimizer": {"kind": "sgd", "lr": 0.1},
         "model": {"kind": "sequential", "layers": [
           {"kind": "conv2d", "out_channels": 4, "kernel_size": 3},
           {"kind": "linear", "out_features": 10}]}}
        """)
        let r = try Recipe.load(file: file, registry: registry)
        #expect(throws: CoreError.shape(where: "$.model.layers[1]: layer 1 (linear)",
                                          message: "expects [N, features] input, got [256, 4, 26, 26]; add a flatten layer before it")) {
            try Experiment(recipe: r, registry: registry, file: file)
        }
    }

    @Test func absurdSizesAreErrorsNotCrashes() throws {
        let file = RecipeFixtures.write("""
        {"epochs": 1, "batch_size": 65536, "optimizer": {"kind": "sgd", "lr": 0.1},
         "model": {"kind": "sequential", "layers": [
           {"kind": "conv2d", "out_channels": 65536, "kernel_size": 1024, "padding": 1000},
           {"kind": "flatten"}, {"kind": "linear", "out_features": 10}]}}
        """)
        let r = try Recipe.load(file: file, registry: registry)
        do {
            _ = try Experiment(recipe: r, registry: registry, file: file)
            Issue.record("an absurd model was built")
        } catch let e as CoreError {
            #expect(e.exitStatus == 2)
            #expect(e.description.contains("too large") || e.description.contains("GiB"), "\(e)")
        }
    }

    @Test func runNamesCannotEscapeTheRunsFolder() throws {
        let base = RecipeFixtures.smallCNN
        for bad in ["../elsewhere", "a/b", ".hidden", ""] {
            let found = try errors(base.replacingOccurrences(of: "\"name\": \"small-cnn\"", with: "\"name\": \"\(bad)\""))
            #expect(found.contains { $0.hasPrefix("$.name: the run name \"\(bad)\" must be") }, "\(bad): \(found)")
        }
        #expect(try errors(base.replacingOccurrences(of: "{\n  \"name\"", with: "{\n  \"$schema\": \"../../schemas/recipe.schema.json\", \"name\"")).isEmpty)
    }

    @Test func deepNestingIsRefused() throws {
        var model = "{\"kind\": \"relu\"}"
        for _ in 0..<70 { model = "{\"kind\": \"sequential\", \"layers\": [\(model)]}" }
        let file = RecipeFixtures.write("{\"epochs\": 1, \"optimizer\": {\"kind\": \"sgd\"}, \"model\": \(model)}")
        #expect(throws: (any Error).self) { try Recipe.load(file: file, registry: registry) }
    }

    @Test func malformedJSONNamesLineAndColumn() throws {
        let file = RecipeFixtures.write("{\n  \"epochs\": 1,\n  \"optimizer\": {\"kind\": \"sgd\" \"lr\": 0.1}\n}")
        do {
            _ = try Recipe.load(file: file, registry: registry)
            Issue.record("malformed JSON was accepted")
        } catch let e as CoreError {
            #expect(e.exitStatus == 2)
            #expect(e.description.hasPrefix("\(file): line 3, column 31:"), "\(e)")
        }
    }

    @Test func overridesApplyByPath() throws {
        let file = RecipeFixtures.write(RecipeFixtures.smallCNN)
        let r = try Recipe.load(file: file, overrides: ["optimizer.lr=0.5", "epochs=3", "model.layers.0.out_channels=4"], registry: registry)
        #expect(r.optimizer.learningRate == 0.5)
        #expect(r.epochs == 3)
        #expect(r.json["model"]?["layers"]?[0]?["out_channels"] == .number(4))
        #expect(throws: CoreError.self) { try Recipe.load(file: file, overrides: ["epochs"], registry: registry) }
    }

    @Test func randomlyBrokenRecipesNeverCrash() throws {
        let base = try JSONParser.parse(RecipeFixtures.smallCNN)
        var random = RandomStream(seed: 11)
        let replacements: [JSONValue] = [.null, .bool(true), .number(-1), .number(0), .number(1e300), .number(3.5),
                                         .string(""), .string("relu"), .array([]), .object(JSONObject())]
        let paths = ["epochs", "batch_size", "seed", "threads", "optimizer", "optimizer.lr", "optimizer.kind", "loss",
                     "data", "data.train_limit", "model", "model.kind", "model.layers", "model.layers.0",
                     "model.layers.0.kernel_size", "model.layers.0.padding", "model.layers.4.body", "model.layers.4.shortcut",
                     "model.layers.8.out_features", "model.layers.5.kernel_size", "model.layers.7.p", "callbacks", "callbacks.1.every", "init"]
        for _ in 0..<300 {
            var json = base
            for _ in 0..<(1 + random.below(3)) {
                try? json.set(path: paths[random.below(paths.count)], value: replacements[random.below(replacements.count)])
            }
            let diagnostics = Diagnostics()
            let recipe = Recipe.parse(json, defaultName: "fuzz", registry: registry, diagnostics: diagnostics)
            guard diagnostics.errors.isEmpty else { continue }
            _ = try? Experiment(recipe: recipe, registry: registry)
        }
    }
}
