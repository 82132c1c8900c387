import Foundation
import Testing
@testable import StrataCore

/// Every shipped plugin installed from the built products into a temporary plugin folder.
enum ShippedPlugins {
    static func registry() throws -> ComponentRegistry {
        let folder = RecipeFixtures.temporaryDirectory("shipped-plugins")
        let result = PluginInstaller.install(source: RecipeFixtures.repositoryRoot.appendingPathComponent("Plugins").path,
                                             libraryDirectory: PluginFixtures.productsDirectory.path, into: folder.path)
        guard result.refusals.isEmpty else { throw CoreError.runtime("install: \(result.refusals)") }
        let registry = ComponentRegistry.withPlugins(searchPath: [folder.path])
        guard registry.pluginDiscovery.refusals.isEmpty else { throw CoreError.runtime("discovery: \(registry.pluginDiscovery.refusals)") }
        return registry
    }
}

/// The C plugins c-optimizers (rmsprop) and c-callbacks (grad_norm_log), driven from recipes.
@Suite("C optimizer and callback plugins", .serialized)
struct CTrainingPluginTests {
    /// The optimizer `json` describes, made through the registry as a recipe's would be.
    func optimizer(_ json: String, registry: ComponentRegistry) throws -> any Optimizer {
        let diagnostics = Diagnostics()
        let (spec, _) = Recipe.parseOptimizer(try JSONParser.parse(json), registry: registry, diagnostics: diagnostics)
        #expect(diagnostics.isEmpty, "\(diagnostics.errors)")
        return try spec.make()
    }

    /// Steps the plugin's rmsprop over the PyTorch fixture's gradients and compares every step.
    /// `groupDecay` moves the fixture's weight decay from the options into the parameter's
    /// group, so the value reaches the plugin through bind_weight_decay instead of create.
    func checkFixture(_ name: String, groupDecay: Bool) throws {
        let f = try Fixture.load(name)
        let decay = f.double("weight_decay") ?? 0
        let json = """
        {"kind": "rmsprop", "lr": \(f.double("lr")!), "alpha": \(f.double("alpha")!), "eps": \(f.double("eps")!),
         "momentum": \(f.double("momentum")!), "centered": \(f.bool("centered")!), "weight_decay": \(groupDecay ? 0 : decay)}
        """
        let opt = try optimizer(json, registry: try ShippedPlugins.registry())
        #expect(opt is PluginOptimizer)
        let p0 = f.tensor("param_0")
        let param = Parameter(name: "weight", role: .weight, shape: p0.shape)
        param.value.copy(from: Tensor(shape: p0.shape, values: p0.data))
        for step in 1...5 {
            let g = f.tensor("grad_\(step)")
            param.grad!.copy(from: Tensor(shape: g.shape, values: g.data))
            try opt.step([OptimizerSlot(name: "w", parameter: param, weightDecay: Float(decay))])
            assertClose(param.value.array(), f.tensor("param_\(step)").data, rtol: 1e-5, atol: 1e-7, "\(name) step \(step)")
        }
    }

    @Test(arguments: ["rmsprop_plain", "rmsprop_momentum", "rmsprop_centered_momentum"])
    func rmspropMatchesPyTorch(_ name: String) throws {
        try checkFixture(name, groupDecay: false)
    }

    @Test func aGroupsWeightDecayReachesThePluginThroughBindWeightDecay() throws {
        try checkFixture("rmsprop_centered_momentum", groupDecay: true)
    }

    @Test func theStateIsSavedUnderPyTorchsNamesAndRestoredExactly() throws {
        let registry = try ShippedPlugins.registry()
        let json = #"{"kind": "rmsprop", "lr": 0.01, "momentum": 0.9, "centered": true}"#
        let a = try optimizer(json, registry: registry)
        let p = Parameter(name: "weight", role: .weight, shape: [3])
        p.value.copy(from: Tensor(shape: [3], values: [1, -2, 3]))
        for g: [Float] in [[0.5, 1, -1], [0.25, -0.5, 2]] {
            p.grad!.copy(from: Tensor(shape: [3], values: g))
            try a.step([OptimizerSlot(name: "w", parameter: p, weightDecay: 0)])
        }
        let saved = a.stateTensors()
        #expect(saved.map(\.name) == ["w.square_avg", "w.momentum_buffer", "w.grad_avg", "w.step"])
        #expect(saved.last?.tensor.array() == [2])
        // A second optimizer restored from that state takes the same third step, bit for bit.
        let q = Parameter(name: "weight", role: .weight, shape: [3])
        q.value.copy(from: p.value)
        let b = try optimizer(json, registry: registry)
        try b.loadState(Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.tensor.copy()) }), parameters: ["w": q])
        for x in [p, q] { x.grad!.copy(from: Tensor(shape: [3], values: [-1, 0.75, 0.125])) }
        try a.step([OptimizerSlot(name: "w", parameter: p, weightDecay: 0)])
        try b.step([OptimizerSlot(name: "w", parameter: q, weightDecay: 0)])
        #expect(q.value.array() == p.value.array())
        #expect(b.stateTensors().map { $0.tensor.array() } == a.stateTensors().map { $0.tensor.array() })
        // Unknown state is refused, naming it.
        let c = try optimizer(json, registry: registry)
        #expect(throws: CoreError.self) { try c.loadState(["w.exp_avg": Tensor(shape: [3])], parameters: ["w": q]) }
    }

    @Test func badOptionsAreReportedAtTheirPath() throws {
        let registry = try ShippedPlugins.registry()
        let diagnostics = Diagnostics()
        _ = Recipe.parseOptimizer(try JSONParser.parse(#"{"kind": "rmsprop", "lr": -1, "alpah": 0.9}"#), registry: registry, diagnostics: diagnostics)
        let text = diagnostics.errors.map(\.description).joined(separator: "\n")
        #expect(text.contains("$.optimizer.lr"), "\(text)")
        #expect(text.contains("$.optimizer.alpah"), "\(text)")
        // A value the plugin's create refuses fails when the run makes the optimizer.
        let (spec, _) = Recipe.parseOptimizer(try JSONParser.parse(#"{"kind": "rmsprop", "alpha": 1.5}"#), registry: registry, diagnostics: Diagnostics())
        do {
            _ = try spec.make()
            Issue.record("alpha 1.5 was accepted")
        } catch {
            #expect("\(error)".contains(#"plugin c-optimizers, optimizer "rmsprop" at $.optimizer: create failed (invalid argument): alpha must be between 0 and 1, got 1.5"#), "\(error)")
        }
    }

    /// A small MLP on a slice of Fashion-MNIST trained with the plugin optimizer. It keeps the
    /// default thread count, as the other training tests do: the count is process-wide, and the
    /// kernels' split (so the last bit of a sum) follows it while suites run side by side.
    static func recipe(epochs: Int, extra: String = "") -> String {
        """
        {"name": "rmsprop-resume", "seed": 3, "epochs": \(epochs), "batch_size": 64,
         "data": {"dataset": "fashion-mnist", "train_limit": 640, "test_limit": 128},
         "model": {"kind": "sequential", "layers": [
           {"kind": "flatten"}, {"kind": "linear", "out_features": 32}, {"kind": "relu"}, {"kind": "linear", "out_features": 10}]},
         "optimizer": {"kind": "rmsprop", "lr": 0.002, "momentum": 0.5, "centered": true, "weight_decay": 0.001,
                       "param_groups": [{"match": "3", "lr_mult": 0.5, "weight_decay": 0}]},
         "callbacks": [{"kind": "checkpoint"}]\(extra)}
        """
    }

    @Test(.enabled(if: RecipeFixtures.hasFashionMNIST, "needs Debian's dataset-fashion-mnist"))
    func twoEpochsEqualOneEpochAndAResumedOneBitForBit() throws {
        let registry = try ShippedPlugins.registry()
        func run(_ text: String) throws -> URL {
            let file = RecipeFixtures.write(text)
            let experiment = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
            let dir = RecipeFixtures.temporaryDirectory("strata-run")
            _ = try experiment.run(directory: dir, recipeText: "")
            return dir.appendingPathComponent("checkpoints/last.safetensors")
        }
        let straight = try run(Self.recipe(epochs: 2))
        let first = try run(Self.recipe(epochs: 1))
        let resumed = try run(Self.recipe(epochs: 2, extra: #", "checkpoint": {"resume": "\#(first.path)"}"#))
        // The optimizer file a model checkpoint commits to (CheckpointPair).
        func optimizerFile(_ model: URL) throws -> URL { try #require(CheckpointPair.optimizerFiles(of: model).first) }
        for (a, b) in [(straight, resumed), (try optimizerFile(straight), try optimizerFile(resumed))] {
            let x = try SafeTensors.read(from: a), y = try SafeTensors.read(from: b)
            #expect(x.tensors.map(\.name) == y.tensors.map(\.name))
            #expect(!x.tensors.isEmpty)
            for (s, t) in zip(x.tensors, y.tensors) {
                #expect(s.tensor.array().map(\.bitPattern) == t.tensor.array().map(\.bitPattern), "\(s.name) differs after resuming")
            }
        }
        let state = try SafeTensors.read(from: try optimizerFile(straight))
        #expect(state.metadata["strata.optimizer"] == "rmsprop")
        #expect(state.tensors.map(\.name).contains("1.weight.square_avg") && state.tensors.map(\.name).contains("3.bias.grad_avg"))
        #expect(state.tensors.first { $0.name == "1.weight.step" }?.tensor.array() == [20])
    }

    /// Records, at every batchEnd, the L2 norm of the gradients the Swift side sees.
    final class NormProbe: Callback {
        let kind = "probe"
        var norms: [Double] = []
        func onEvent(_ event: TrainingEvent, context: inout CallbackContext) throws {
            guard event == .batchEnd else { return }
            var sum = 0.0
            for (_, p) in context.parameters { if let g = p.grad { for i in 0..<g.count { sum += Double(g[i]) * Double(g[i]) } } }
            norms.append(sum.squareRoot())
        }
    }

    @Test(.enabled(if: RecipeFixtures.hasFashionMNIST, "needs Debian's dataset-fashion-mnist"))
    func gradNormLogWritesEveryBatchsGradientNorm() throws {
        let registry = try ShippedPlugins.registry()
        let text = Self.recipe(epochs: 1).replacingOccurrences(of: #""callbacks": [{"kind": "checkpoint"}]"#,
                                                              with: #""callbacks": [{"kind": "grad_norm_log"}]"#)
        let file = RecipeFixtures.write(text)
        let experiment = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
        let dir = RecipeFixtures.temporaryDirectory("strata-run")
        let probe = NormProbe()
        _ = try experiment.run(directory: dir, recipeText: "", extraCallbacks: [probe])
        let lines = try String(contentsOf: dir.appendingPathComponent("grad_norms.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "epoch,batch,global_step,lr,loss,grad_norm")
        #expect(lines.count == 11 && probe.norms.count == 10)
        for (i, line) in lines.dropFirst().enumerated() {
            let f = line.split(separator: ",").map(String.init)
            #expect(f[0] == "1" && f[1] == "\(i)" && f[2] == "\(i + 1)" && f[3] == "0.002", "\(line)")
            let norm = try #require(Double(f[5]))
            #expect(norm > 0 && abs(norm - probe.norms[i]) <= 1e-8 * probe.norms[i], "batch \(i): \(norm) vs \(probe.norms[i])")
            #expect(Double(f[4])!.isFinite)
        }
    }
}
