import Foundation
import Testing
@testable import StrataCore

/// `activation_stats`: per-batch mean and unbiased std of hooked layers, averaged per epoch.
/// Nested in the forward-hook suite, which counts hooks process-wide.
extension ForwardHookTests {
@Suite("Activation statistics", .serialized)
struct ActivationStatsTests {
    /// 2 → linear 2 (weight [[1, 0], [0, 2]], bias [0, −6]) → relu.
    static func model() throws -> Model {
        let fc = Linear(outFeatures: 2), relu = Activation(.relu)
        var context = BuildContext(seed: 1)
        let model = try Model(root: Sequential([fc, relu]), exampleShape: [2], maxBatch: 2, context: &context)
        fc.weight.value.copy(from: Tensor(shape: [2, 2], values: [1, 0, 0, 2]))
        fc.bias!.value.copy(from: Tensor(shape: [2], values: [0, -6]))
        return model
    }

    @Test func meansAndStdsEqualTheHandComputedOnesAveragedOverTheEpoch() throws {
        let model = try Self.model()
        let callback = ActivationStatsCallback(layers: ["0", "1"], model: model, plots: nil)
        var c = CallbackContext()
        let before = ForwardHooks.active.load(ordering: .relaxed)
        try callback.onEvent(.trainBegin, context: &c)
        c.epoch = 1
        try callback.onEvent(.epochBegin, context: &c)
        // Batch 1: x = [[1, 2], [3, 4]] → linear [[1, −2], [3, 2]] → relu [[1, 0], [3, 2]].
        _ = try model.forward(Tensor(shape: [2, 2], values: [1, 2, 3, 4]), training: true)
        try callback.onEvent(.batchEnd, context: &c)
        // Batch 2: x = [[0, 0], [1, 1]] → linear [[0, −6], [1, −4]] → relu [[0, 0], [1, 0]].
        _ = try model.forward(Tensor(shape: [2, 2], values: [0, 0, 1, 1]), training: true)
        try callback.onEvent(.batchEnd, context: &c)
        // An evaluation forward before the epoch ends is not a training batch.
        _ = try model.forward(Tensor(shape: [2, 2], values: [100, 100, 100, 100]), training: false)
        try callback.onEvent(.epochEnd, context: &c)

        // Linear: batch 1 mean 1, squared deviations 0+9+4+1 = 14; batch 2 mean −2.25, 32.75.
        // ReLU:   batch 1 mean 1.5, 5;                             batch 2 mean 0.25, 0.75.
        // Unbiased: std = sqrt(sum / (4 − 1)).
        let expected: [(String, Double)] = [
            ("act/0/mean", (1 - 2.25) / 2), ("act/0/std", ((14.0 / 3).squareRoot() + (32.75 / 3).squareRoot()) / 2),
            ("act/1/mean", (1.5 + 0.25) / 2), ("act/1/std", ((5.0 / 3).squareRoot() + (0.75 / 3).squareRoot()) / 2),
        ]
        #expect(c.metrics.map(\.name) == expected.map(\.0))
        for ((name, value), want) in zip(c.metrics, expected.map(\.1)) {
            #expect(abs(value - want) < 1e-6, "\(name): \(value), expected \(want)")
        }
        #expect(callback.history.count == 1 && callback.history[0].epoch == 1)
        try callback.onEvent(.trainEnd, context: &c)
        #expect(ForwardHooks.active.load(ordering: .relaxed) == before, "the hooks are removed at the end of training")
    }

    static func recipe(data: String, layers: String, epochs: Int = 2) -> String {
        SyntheticData.recipe(data: data, epochs: epochs).replacingOccurrences(
            of: #""callbacks": [{"kind": "metrics_log"}, {"kind": "checkpoint", "every": 1, "keep_last": 2}]"#,
            with: #""callbacks": [{"kind": "metrics_log"}, {"kind": "plot"}, {"kind": "activation_stats", "layers": \#(layers)}]"#)
    }

    @Test func aRunLogsEveryLayerPerEpochAndDrawsThemInTwoPanels() throws {
        let data = try SyntheticData.folder(train: .init(count: 48), test: .init(count: 16))
        let registry = ComponentRegistry.builtIn()
        let file = RecipeFixtures.write(Self.recipe(data: data, layers: #"["1", "4"]"#))
        let recipe = try Recipe.load(file: file, registry: registry)
        let directory = RecipeFixtures.temporaryDirectory("act-stats")
        _ = try Experiment(recipe: recipe, registry: registry, file: file).run(directory: directory, recipeText: "")
        let lines = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let record = try JSONParser.parse(String(line))
            for layer in ["1", "4"] {
                let mean = try #require(record["act/\(layer)/mean"]?.numberValue), std = try #require(record["act/\(layer)/std"]?.numberValue)
                #expect(mean.isFinite && std > 0, "\(layer): \(mean) \(std)")
            }
            // BatchNorm in training mode normalises each channel: mean ≈ 0, std ≈ 1 (weight 1, bias 0 at the start).
            if record["epoch"]?.numberValue == 1 {
                #expect(abs(try #require(record["act/1/mean"]?.numberValue)) < 0.1)
            }
        }
        let svg = try String(contentsOf: directory.appendingPathComponent("plots/activations.svg"), encoding: .utf8)
        let texts = PlotRenderTests.texts(svg)
        for label in ["mean", "std", "1", "2", "epoch"] { #expect(texts.contains(label), "activations.svg has \(label): \(texts)") }
        #expect(svg.components(separatedBy: "class=\"panel\"").count - 1 == 2, "means and stds in two panels")
        #expect(svg.contains("class=\"grid\""))
        try PlotRenderTests.expectDrawn(svg, name: "activations", width: 560, height: 26 + 2 * 260)
    }

    @Test func anUnknownLayerIsRefusedAtItsPathWhenTheModelIsBuiltAndTheCLIExitsTwo() throws {
        let data = try SyntheticData.folder(train: .init(count: 16), test: .init(count: 8))
        let registry = ComponentRegistry.builtIn()
        let file = RecipeFixtures.write(Self.recipe(data: data, layers: #"["1", "layer9"]"#))
        let recipe = try Recipe.load(file: file, registry: registry)
        #expect {
            _ = try Experiment(recipe: recipe, registry: registry, file: file)
        } throws: { error in
            guard let e = error as? RecipeValidationError, e.errors.count == 1 else { return false }
            return e.errors[0].path == "$.callbacks[2].layers[1]" && e.errors[0].message.contains("\"layer9\"")
                && e.errors[0].message.contains("its layers are 0, 1, 2, 3, 4")
        }
        let run = try BoundedRun.strata(["run", file, "--out", RecipeFixtures.temporaryDirectory("act-bad").path])
        #expect(run.status == 2 && !run.signaled, "\(run.status) \(run.err)")
        #expect(run.err.contains("$.callbacks[2].layers[1]"), "\(run.err)")
        // Malformed lists are refused while the recipe is read.
        for (layers, path) in [(#"[]"#, "$.callbacks[2].layers"), (#"[3]"#, "$.callbacks[2].layers[0]"),
                               (#"["1", "1"]"#, "$.callbacks[2].layers[1]"), (#""1""#, "$.callbacks[2].layers")] {
            #expect {
                try Recipe.load(file: RecipeFixtures.write(Self.recipe(data: data, layers: layers)), registry: registry)
            } throws: { error in
                (error as? RecipeValidationError)?.errors.contains { $0.path == path } == true
            }
        }
    }
}
}
