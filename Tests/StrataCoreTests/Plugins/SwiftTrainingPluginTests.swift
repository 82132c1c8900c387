import Foundation
import Testing
@testable import StrataCore

/// The Swift plugin Plugins/swift-training (StrataKit's loss, optimizer and callback
/// protocols), driven through the ABI from recipe objects.
@Suite("The Swift plugin (swift-training)", .serialized)
struct SwiftTrainingPluginTests {
    func loss(_ json: String, registry: ComponentRegistry) throws -> any Loss {
        let diagnostics = Diagnostics()
        var reader = ConfigReader(try JSONParser.parse(json), path: "$.loss", diagnostics: diagnostics)
        let entry = try #require(registry.entry(registry.losses, &reader, category: "loss"))
        let loss = try #require(entry.factory(&reader), "\(diagnostics.errors)")
        reader.finish()
        #expect(diagnostics.isEmpty, "\(diagnostics.errors)")
        return try loss.make()
    }

    @Test func labelSmoothingByHandAndWithoutSmoothingAsTheBuiltInCrossEntropy() throws {
        let registry = try ShippedPlugins.registry()
        // Two equal logits, epsilon 0.2: q = [0.9, 0.1], p = [0.5, 0.5]: loss ln 2, gradient p - q.
        let smoothed = try loss(#"{"kind": "label_smoothing_ce", "epsilon": 0.2}"#, registry: registry)
        let x = Tensor(shape: [1, 2], values: [0, 0]), g = Tensor(shape: [1, 2])
        var y: [Int32] = [0]
        let v = try smoothed.compute(output: x, targets: &y, gradient: g)
        #expect(abs(v.loss - log(2.0)) < 1e-12)
        #expect(g.array() == [-0.4, 0.4])
        // epsilon 0 is plain cross-entropy.
        let plain = try loss(#"{"kind": "label_smoothing_ce", "epsilon": 0}"#, registry: registry)
        var random = RandomStream(seed: 9)
        let logits = Tensor(shape: [5, 7], values: (0..<35).map { _ in Float(random.nextDouble() * 8 - 4) })
        var labels: [Int32] = [0, 6, 3, 3, 1]
        let a = Tensor(shape: [5, 7]), b = Tensor(shape: [5, 7])
        let mine = try plain.compute(output: logits, targets: &labels, gradient: a)
        let builtIn = try CrossEntropyLoss().compute(output: logits, targets: &labels, gradient: b)
        #expect(abs(mine.loss - builtIn.loss) < 1e-6 && mine.correct == builtIn.correct)
        assertClose(a.array(), b.array(), rtol: 1e-5, atol: 1e-7, "gradient")
        // A bad option is refused by the Swift init when the loss is made, with its message at its path.
        let diagnostics = Diagnostics()
        var reader = ConfigReader(try JSONParser.parse(#"{"kind": "label_smoothing_ce", "epsilon": 1}"#), path: "$.loss", diagnostics: diagnostics)
        let spec = try #require(registry.losses["label_smoothing_ce"]?.factory(&reader))
        #expect(diagnostics.isEmpty, "\(diagnostics.errors)")
        #expect {
            _ = try spec.make()
        } throws: { error in
            let e = error as? ComponentBuildError
            return e?.path == "$.loss" && e?.message.contains("epsilon must be in [0, 1), got 1.0") == true
        }
    }

    @Test func lionStepsByHandWithGroupWeightDecayAndKeepsItsState() throws {
        let registry = try ShippedPlugins.registry()
        let diagnostics = Diagnostics()
        let (spec, _) = Recipe.parseOptimizer(try JSONParser.parse(#"{"kind": "lion", "lr": 0.1, "beta1": 0.9, "beta2": 0.99}"#),
                                              registry: registry, diagnostics: diagnostics)
        #expect(diagnostics.isEmpty, "\(diagnostics.errors)")
        let opt = try spec.make()
        let p = Parameter(name: "w", role: .weight, shape: [3]), q = Parameter(name: "v", role: .weight, shape: [1])
        p.value.copy(from: Tensor(shape: [3], values: [1, -1, 0.5]))
        q.value.copy(from: Tensor(shape: [1], values: [2]))
        let slots = [OptimizerSlot(name: "w", parameter: p, weightDecay: 0), OptimizerSlot(name: "v", parameter: q, weightDecay: 0.5)]
        // Step 1: m = 0, so the direction is sign(g).
        p.grad!.copy(from: Tensor(shape: [3], values: [0.5, -2, 0]))
        q.grad!.copy(from: Tensor(shape: [1], values: [1]))
        try opt.step(slots)
        assertClose(p.value.array(), [0.9, -0.9, 0.5], rtol: 0, atol: 1e-6, "step 1")
        assertClose(q.value.array(), [2 * 0.95 - 0.1], rtol: 0, atol: 1e-6, "step 1, decayed")
        // Step 2: m = 0.01 g1; direction sign(0.9 m + 0.1 g2) = [-1, -1, 1].
        p.grad!.copy(from: Tensor(shape: [3], values: [-1, -1, 1]))
        q.grad!.copy(from: Tensor(shape: [1], values: [-1]))
        try opt.step(slots)
        assertClose(p.value.array(), [1.0, -0.8, 0.4], rtol: 0, atol: 1e-6, "step 2")
        let state = Dictionary(uniqueKeysWithValues: opt.stateTensors().map { ($0.name, $0.tensor.array()) })
        assertClose(state["w.exp_avg"] ?? [], [-0.00505, -0.0298, 0.01], rtol: 1e-5, atol: 1e-7, "exp_avg")
        #expect(state["w.step"] == [2])
    }

    /// Records the learning rate each batch trains with.
    final class RateProbe: Callback {
        let kind = "probe"
        var rates: [Double] = []
        func onEvent(_ event: TrainingEvent, context: inout CallbackContext) throws {
            if event == .batchEnd { rates.append(context.learningRate) }
        }
    }

    @Test(.enabled(if: RecipeFixtures.hasFashionMNIST, "needs Debian's dataset-fashion-mnist"))
    func lrWarmupSetsTheRateOfEveryStep() throws {
        let registry = try ShippedPlugins.registry()
        let file = RecipeFixtures.write("""
        {"name": "warmup", "seed": 1, "epochs": 2, "batch_size": 64,
         "data": {"dataset": "fashion-mnist", "train_limit": 320, "test_limit": 64},
         "model": {"kind": "sequential", "layers": [{"kind": "flatten"}, {"kind": "linear", "out_features": 10}]},
         "optimizer": {"kind": "lion", "lr": 0.001}, "loss": {"kind": "label_smoothing_ce"},
         "callbacks": [{"kind": "lr_warmup", "steps": 4, "start_factor": 0.2}]}
        """)
        let experiment = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
        let probe = RateProbe()
        let summary = try experiment.run(directory: nil, recipeText: "", extraCallbacks: [probe])
        let expected = [0.2, 0.4, 0.6, 0.8, 1, 1, 1, 1, 1, 1].map { 0.001 * $0 }
        #expect(probe.rates.count == 10)
        for (r, e) in zip(probe.rates, expected) { #expect(abs(r - e) < 1e-15, "\(probe.rates)") }
        #expect(summary.records.allSatisfy { $0.trainLoss.isFinite })
    }
}
