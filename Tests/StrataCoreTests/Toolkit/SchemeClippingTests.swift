import CStrata
import Testing
@testable import StrataCore

/// A plugin scheme's optimizer_step applies the recipe's `gradient_clip`, as the fit loop does.
@Suite("Gradient clipping in plugin schemes")
struct SchemeClippingTests {
    /// Steps SGD (lr 0.1, no momentum) once through "strata.train" on linear 2 → 2 with weight
    /// gradient [[3, 0], [0, 0]] and bias gradient [4, 0] (global norm 5); returns how much
    /// weight[0][0] and bias[0] fell.
    static func step(clip: String?) throws -> (weight: Float, bias: Float) {
        let text = #"{"epochs": 1, "model": {"kind": "linear", "out_features": 2}, "optimizer": {"kind": "sgd", "lr": 0.1}"#
            + (clip.map { #", "gradient_clip": \#($0)"# } ?? "") + "}"
        let diagnostics = Diagnostics()
        let recipe = Recipe.parse(try JSONParser.parse(text), defaultName: "clip", registry: .builtIn(), diagnostics: diagnostics)
        try #require(diagnostics.isEmpty, "\(diagnostics.errors)")
        let empty = ImageDataset(pixels: [], labels: [], channels: 1, height: 1, width: 2, classCount: 2)
        let run = SchemeRun(recipe: recipe, registry: .builtIn(), directory: nil, train: empty, test: empty, callbacks: [])
        defer { run.releaseAll() }
        let fc = Linear(outFeatures: 2)
        var context = BuildContext(seed: 3)
        let model = try Model(root: fc, exampleShape: [2], maxBatch: 1, context: &context)
        let handle = OpaquePointer(run.retain(SchemeModel(run: run, model: model, graph: "{}")))
        let runHandle = OpaquePointer(run.retain(run))
        let api = TrainInterface.table.pointee
        var err = PluginLayer.newError()
        var optimizer: OpaquePointer? = nil
        try #require(api.optimizer_create!(runHandle, nil, handle, 0, 1, &optimizer, &err) == STRATA_OK, "\(HostAPI.message(of: &err))")
        let w0 = fc.weight.value[0], b0 = fc.bias!.value[0]
        fc.weight.grad!.copy(from: Tensor(shape: [2, 2], values: [3, 0, 0, 0]))
        fc.bias!.grad!.copy(from: Tensor(shape: [2], values: [4, 0]))
        try #require(api.optimizer_step!(optimizer, 0.1, &err) == STRATA_OK, "\(HostAPI.message(of: &err))")
        return (w0 - fc.weight.value[0], b0 - fc.bias!.value[0])
    }

    @Test func theRecipesClippingAppliesBeforeEveryStep() throws {
        let plain = try Self.step(clip: nil)
        #expect(abs(plain.weight - 0.3) < 1e-6 && abs(plain.bias - 0.4) < 1e-6, "\(plain)")
        // max_norm 1: the gradients scaled by 1 / (5 + 1e-6).
        let norm = try Self.step(clip: #"{"max_norm": 1}"#)
        #expect(abs(norm.weight - 0.06) < 1e-6 && abs(norm.bias - 0.08) < 1e-6, "\(norm)")
        // value 0.5: each element clamped to ±0.5.
        let value = try Self.step(clip: #"{"value": 0.5}"#)
        #expect(abs(value.weight - 0.05) < 1e-6 && abs(value.bias - 0.05) < 1e-6, "\(value)")
    }
}

/// BoostResNet steps through optimizer_step: the recipe's `gradient_clip` changes its training.
extension SchemeClippingTests {
    @Test(.enabled(if: RecipeFixtures.hasFashionMNIST, "needs Debian's dataset-fashion-mnist"))
    func aBoostResNetRunHonoursTheRecipesClipping() throws {
        let registry = try BoostResNetSchemeTests.registry()
        let base = BoostResNetSchemeTests.recipe(scheme: #"{"kind": "boostresnet", "check_every": 20, "max_iters": 20, "rounds": 1}"#,
                                                 train: 400, test: 200)
        func trainAccuracy(_ text: String) throws -> Double {
            let (_, rounds, _) = try BoostResNetSchemeTests.run(text, registry: registry)
            let first = try #require(rounds.first)
            return BoostResNetSchemeTests.number(first, "train_acc")
        }
        let plain = try trainAccuracy(base), again = try trainAccuracy(base)
        #expect(plain == again, "the run repeats to the bit, so a difference is the clipping's")
        // Every gradient element clamped to ±1e-9: the module barely moves from its initialisation.
        let clipped = try trainAccuracy(base.replacingOccurrences(of: #""scheme":"#, with: #""gradient_clip": {"value": 1e-9}, "scheme":"#))
        #expect(clipped != plain, "train_acc \(clipped) with clipping, \(plain) without")
    }
}
