import Foundation
import Testing
@testable import StrataCore

/// The vision plugin's GoogLeNet and DenseNet builders against the PyTorch definitions of their
/// sources (fixtures from scripts/make_multibranch_fixtures.py): the same parameter names and
/// shapes, the same logits in training and evaluation mode, and the same gradients of the first
/// and last layer's weight.
@Suite("Multi-branch networks match PyTorch", .serialized)
struct MultiBranchParityTests {
    let registryOrNil: ComponentRegistry? = try? ComponentRegistry.withPlugins(searchPath: [SwiftPluginTests.pluginFolder().path])

    func options(_ f: Fixture) -> JSONValue {
        var o = JSONObject()
        o["kind"] = .string(f.string("builder")!)
        o["variant"] = .string(f.string("variant")!)
        o["classes"] = .number(Double(f.int("classes")!))
        for key in ["width", "dropout"] {
            if let v = f.double(key) { o[key] = .number(v) }
        }
        for key in ["growth_rate", "num_init_features", "bn_size"] {
            if let v = f.int(key) { o[key] = .number(Double(v)) }
        }
        if let blocks = f.int("blocks"), let layers = f.int("layers_per_block") {
            o["block_config"] = .array(Array(repeating: .number(Double(layers)), count: blocks))
        }
        return .object(o)
    }

    @Test(arguments: ["googlenet_d2l", "googlenet_torchvision_train", "googlenet_torchvision_eval", "densenet_d2l_train", "densenet_d2l_eval", "densenet_torchvision_train", "densenet_torchvision_eval"])
    func network(_ name: String) throws {
        let f = try Fixture.load(name)
        let registry = try #require(registryOrNil)
        let x = f.tensor("x")
        let diagnostics = Diagnostics()
        let spec = try #require(ModelBuilder(registry: registry, diagnostics: diagnostics).layer(options(f), path: "$.model"), "\(diagnostics.errors)")
        // An option the manifest does not declare is reported and dropped: the network would be
        // built with the builder's default (GoogLeNet's dropout 0.2 instead of the fixture's 0).
        try #require(diagnostics.isEmpty, "\(name): \(diagnostics.errors)")
        let tree = try LayerSpec.buildTree(spec, registry: registry, file: name)
        var context = BuildContext(seed: 0)
        let model = try Model(root: tree.root, exampleShape: Array(x.shape.dropFirst()), maxBatch: x.shape[0], context: &context)

        // Every parameter and buffer has its PyTorch state-dict name and shape.
        let fixtureNames = f.tensorNames.filter { $0.hasPrefix("p:") }.map { String($0.dropFirst(2)) }
        let params = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.parameter) })
        #expect(Set(params.keys) == Set(fixtureNames), "\(name): names differ: \(Set(params.keys).symmetricDifference(fixtureNames).sorted().prefix(6))")
        for n in fixtureNames {
            let t = f.tensor("p:" + n)
            let p = try #require(params[n], "\(name): no parameter \(n)")
            try #require(p.value.shape == t.shape, "\(name): \(n) is \(p.value.shape), PyTorch's \(t.shape)")
            p.value.copy(from: Tensor(shape: t.shape, values: t.data))
        }

        let training = f.bool("training")!
        let input = Tensor(shape: x.shape, values: x.data)
        let y = try model.forward(input, training: training)
        assertClose(y.array(), f.tensor("y").data, rtol: 1e-4, atol: 1e-5, "\(name) logits")

        model.zeroGradients()
        let dy = f.tensor("dy")
        model.outputGradient.copy(from: Tensor(shape: dy.shape, values: dy.data))
        try model.backward(input: input)
        for key in ["first", "last"] {
            let n = f.string(key)!
            assertClose(try #require(params[n]).grad!.array(), f.tensor("g:" + n).data, rtol: 1e-4, atol: 1e-4, "\(name) d\(n)")
        }
    }

    /// Full-size parameter counts, as torchvision counts them.
    @Test func fullSizeParameterCounts() throws {
        let registry = try #require(registryOrNil)
        for (json, count) in [(#"{"kind": "densenet"}"#, 7_978_856), (#"{"kind": "googlenet", "variant": "torchvision"}"#, 6_624_904)] as [(String, Int)] {
            let diagnostics = Diagnostics()
            let spec = try #require(ModelBuilder(registry: registry, diagnostics: diagnostics).layer(try JSONParser.parse(json), path: "$.model"))
            let tree = try LayerSpec.buildTree(spec, registry: registry, file: "test")
            var context = BuildContext(seed: 0)
            let model = try Model(root: tree.root, exampleShape: [3, 224, 224], maxBatch: 1, context: &context)
            #expect(ModelSummary.totalParameters(model) == count, "\(json)")
            #expect(model.outputExampleShape == [1000])
        }
        // Option errors name the builder's message.
        let diagnostics = Diagnostics()
        let spec = ModelBuilder(registry: registry, diagnostics: diagnostics).layer(try JSONParser.parse(#"{"kind": "densenet", "variant": "huge"}"#), path: "$.model")
        if let spec { #expect(throws: (any Error).self) { _ = try LayerSpec.buildTree(spec, registry: registry, file: "test") } }
    }
}
