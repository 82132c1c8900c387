import Foundation
import Testing
@testable import StrataCore

@Suite("The C plugin end to end", .serialized)
struct CPluginEndToEndTests {
    /// A registry with the c-layers plugin installed in a temporary plugin folder.
    func registry() throws -> ComponentRegistry {
        let folder = RecipeFixtures.temporaryDirectory("plugins")
        try PluginFixtures.makePlugin(in: folder)
        let registry = ComponentRegistry.withPlugins(searchPath: [folder.path])
        #expect(registry.pluginDiscovery.refusals.isEmpty, "\(registry.pluginDiscovery.refusals)")
        return registry
    }

    static func recipe(activation: String) -> String {
        """
        {"name": "plugin-parity", "seed": 11, "epochs": 2, "batch_size": 64,
         "data": {"dataset": "fashion-mnist", "train_limit": 1000, "test_limit": 500},
         "model": {"kind": "sequential", "layers": [
           {"kind": "conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2},
           \(activation),
           {"kind": "maxpool2d", "kernel_size": 2},
           {"kind": "flatten"},
           {"kind": "linear", "out_features": 32},
           \(activation),
           {"kind": "linear", "out_features": 10}]},
         "optimizer": {"kind": "sgd", "lr": 0.05, "momentum": 0.9}, "callbacks": []}
        """
    }

    @Test(.enabled(if: RecipeFixtures.hasFashionMNIST, "needs Debian's dataset-fashion-mnist"))
    func leakyReluWithSlopeZeroTrainsLikeTheBuiltInRelu() throws {
        let registry = try registry()
        func train(_ activation: String) throws -> RunSummary {
            let file = RecipeFixtures.write(Self.recipe(activation: activation))
            let experiment = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
            return try experiment.run(directory: nil, recipeText: "")
        }
        let builtIn = try train(#"{"kind": "relu"}"#)
        let plugin = try train(#"{"kind": "leaky_relu", "negative_slope": 0}"#)
        #expect(builtIn.records.count == 2 && plugin.records.count == 2)
        // The two runs agree to the last bit, even while other suites train at the same time:
        // a kernel job that finds the thread pool busy runs inline with the pool's own split.
        for (a, b) in zip(builtIn.records, plugin.records) {
            #expect(a.trainLoss == b.trainLoss, "epoch \(a.epoch): relu \(a.trainLoss), leaky_relu \(b.trainLoss)")
            #expect(a.testAccuracy == b.testAccuracy, "epoch \(a.epoch): relu \(a.testAccuracy), leaky_relu \(b.testAccuracy)")
        }
        #expect(plugin.records[1].trainLoss < plugin.records[0].trainLoss)
    }

    @Test func leakyReluWithSlopeZeroComputesExactlyWhatReluComputes() throws {
        let registry = try registry()
        let diagnostics = Diagnostics()
        let leaky = try #require(try PluginFixtures.layer(#"{"kind": "leaky_relu", "negative_slope": 0}"#, registry: registry, diagnostics: diagnostics))
        let relu = Activation(.relu)
        let shape = [3, 4, 9, 9]
        var context = BuildContext(seed: 5)
        #expect(try leaky.build(inputShape: shape, context: &context) == shape)
        _ = try relu.build(inputShape: shape, context: &context)
        let x = Tensor(shape: shape), dy = Tensor(shape: shape)
        for i in 0..<x.count { x[i] = Float(context.random.normal()); dy[i] = Float(context.random.normal()) }
        let (y1, y2, dx1, dx2) = (Tensor(shape: shape), Tensor(shape: shape), Tensor(shape: shape), Tensor(shape: shape))
        try relu.forward(input: x, output: y1, training: true)
        try leaky.forward(input: x, output: y2, training: true)
        try relu.backward(input: x, output: y1, gradOutput: dy, gradInput: dx1)
        try leaky.backward(input: x, output: y2, gradOutput: dy, gradInput: dx2)
        #expect(y1.array() == y2.array())
        #expect(dx1.array() == dx2.array())
    }

    @Test func cCrossEntropyMatchesTheBuiltInLoss() throws {
        let registry = try registry()
        let diagnostics = Diagnostics()
        var reader = ConfigReader(["kind": "c_cross_entropy"], path: "$.loss", diagnostics: diagnostics)
        let entry = try #require(registry.entry(registry.losses, &reader, category: "loss"))
        #expect(entry.origin.hasPrefix("plugin c-layers"))
        let loss = try #require(entry.factory(&reader)).make()
        var random = RandomStream(seed: 9)
        let logits = Tensor(shape: [16, 10])
        for i in 0..<logits.count { logits[i] = Float(random.normal() * 3) }
        let targets: [Int32] = (0..<16).map { Int32($0 % 10) }
        let (g1, g2) = (Tensor(shape: [16, 10]), Tensor(shape: [16, 10]))
        let a = try targets.withUnsafeBufferPointer { try CrossEntropyLoss().compute(output: logits, targets: $0.baseAddress!, gradient: g1) }
        let b = try targets.withUnsafeBufferPointer { try loss.compute(output: logits, targets: $0.baseAddress!, gradient: g2) }
        #expect(abs(a.loss - b.loss) <= 1e-6 * a.loss, "\(a.loss) vs \(b.loss)")
        #expect(a.correct == b.correct)
        for i in 0..<g1.count { #expect(abs(g1[i] - g2[i]) <= 1e-6, "gradient \(i): \(g1[i]) vs \(g2[i])") }
        // A label outside the classes is bad input naming the plugin and the row.
        let bad: [Int32] = [3] + [Int32](repeating: 12, count: 15)
        #expect(throws: CoreError.self) { try bad.withUnsafeBufferPointer { try loss.compute(output: logits, targets: $0.baseAddress!, gradient: nil) } }
        do {
            _ = try bad.withUnsafeBufferPointer { try loss.compute(output: logits, targets: $0.baseAddress!, gradient: nil) }
        } catch let error as CoreError {
            #expect(error.exitStatus == 2 && error.description.contains("loss \"c_cross_entropy\" at $.loss: forward failed (invalid argument): target 12 of row 1"), "\(error)")
        }
    }

    @Test(.enabled(if: RecipeFixtures.hasFashionMNIST, "needs Debian's dataset-fashion-mnist"))
    func aRecipeTrainsWithThePluginLoss() throws {
        let registry = try registry()
        var text = Self.recipe(activation: #"{"kind": "relu"}"#)
        text = text.replacingOccurrences(of: #""callbacks": []"#, with: #""callbacks": [], "loss": {"kind": "c_cross_entropy"}"#)
        let file = RecipeFixtures.write(text)
        let recipe = try Recipe.load(file: file, registry: registry)
        #expect(recipe.loss.kind == "c_cross_entropy")
        let summary = try Experiment(recipe: recipe, registry: registry, file: file).run(directory: nil, recipeText: "")
        let builtIn = try Experiment(recipe: try Recipe.load(file: RecipeFixtures.write(Self.recipe(activation: #"{"kind": "relu"}"#)), registry: registry),
                                     registry: registry).run(directory: nil, recipeText: "")
        for (a, b) in zip(builtIn.records, summary.records) {
            #expect(abs(a.trainLoss - b.trainLoss) <= 1e-3 * a.trainLoss, "epoch \(a.epoch): cross_entropy \(a.trainLoss), c_cross_entropy \(b.trainLoss)")
        }
    }

    @Test func pluginLayersPassGradientChecks() throws {
        let registry = try registry()
        let diagnostics = Diagnostics()
        let leaky = try #require(try PluginFixtures.layer(#"{"kind": "leaky_relu", "negative_slope": 0.2}"#, registry: registry, diagnostics: diagnostics))
        // The kink at 0: inputs scaled up so that no probe straddles it (as for the built-in relu).
        try GradientChecker().check(leaky, inputShape: [2, 3, 5, 5], inputScale: 10)
        let scale = try #require(try PluginFixtures.layer(#"{"kind": "scale"}"#, registry: registry, diagnostics: diagnostics))
        // Ones at first; move them so the check sees a non-trivial weight.
        var context = BuildContext(seed: 3)
        _ = try scale.build(inputShape: [2, 3, 4, 4], context: &context)
        let weight = try #require(scale.parameters.first)
        #expect(weight.name == "weight" && weight.value.shape == [3] && weight.value.array() == [1, 1, 1])
        weight.value.copy(from: Tensor(shape: [3], values: [0.5, -1.5, 2]))
        try GradientChecker().check(scale, inputShape: [2, 3, 4, 4])
        #expect(diagnostics.isEmpty, "\(diagnostics.errors)")
    }

    @Test func pluginOptionsAreCheckedAgainstTheManifest() throws {
        let registry = try registry()
        let diagnostics = Diagnostics()
        _ = try PluginFixtures.layer(#"{"kind": "leaky_relu", "negative_slope": "steep", "alpha": 1}"#, registry: registry, diagnostics: diagnostics)
        _ = try PluginFixtures.layer(#"{"kind": "leaky_relu", "negative_slope": 3}"#, registry: registry, diagnostics: diagnostics)
        let messages = diagnostics.errors.map(\.description)
        #expect(messages.contains(#"$.model.negative_slope: expected a number, got string "steep""#), "\(messages)")
        #expect(messages.contains { $0.hasPrefix("$.model.alpha: unknown key") }, "\(messages)")
        #expect(messages.contains(#"$.model: plugin c-layers, layer "leaky_relu": create failed (invalid argument): negative_slope must be between 0 and 1"#), "\(messages)")
    }

    @Test func scaleParametersAreCheckpointedUnderTheirDottedNames() throws {
        let registry = try registry()
        let file = RecipeFixtures.write("""
        {"epochs": 1, "batch_size": 8, "optimizer": {"kind": "sgd", "lr": 0.1},
         "model": {"kind": "sequential", "layers": [
           {"kind": "conv2d", "out_channels": 4, "kernel_size": 3}, {"kind": "scale", "name": "gain"},
           {"kind": "flatten"}, {"kind": "linear", "out_features": 10}]}}
        """)
        let experiment = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
        let names = experiment.model.root.namedParameters().map(\.name)
        #expect(names.contains("gain.weight"), "\(names)")
        #expect(experiment.slots.contains { $0.name == "gain.weight" })
    }
}
