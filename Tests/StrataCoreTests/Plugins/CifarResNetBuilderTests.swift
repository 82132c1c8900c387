import Foundation
import Testing
@testable import StrataCore

/// The vision plugin's `cifar_resnet` builder (Plugins/vision/CifarResNet.swift).
extension SwiftPluginTests {
    @Test func cifarResNetIsTheReferenceNetwork() throws {
        let registry = try registry()
        let net = try model(["kind": "cifar_resnet", "stem_padding": 3], registry: registry)
        // 758 266 parameters: the count PyTorch gives for the same graph
        // (bench/peers/boostresnet_reference.py, cifar_resnet_modules(50, 16, 10, 3)).
        let count: Int = net.trainableParameters.reduce(0) { $0 + $1.parameter.value.count }
        #expect(count == 758_266)
        #expect(net.outputExampleShape == [10])
        let names = net.root.namedParameters().map(\.name)
        for name in ["conv1.weight", "bn1.weight", "layer1.0.body.conv1.weight", "layer1.7.body.bn2.bias",
                     "layer2.0.shortcut.0.weight", "layer2.0.shortcut.1.weight", "layer3.7.body.conv2.weight", "fc.weight", "fc.bias"] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(!names.contains("layer1.0.shortcut.0.weight"), "stride-1 blocks keep the identity shortcut")
        #expect(names.filter { $0.hasSuffix("body.conv1.weight") }.count == 24, "3 stages of n = 8 blocks")
        let shapes = Dictionary(uniqueKeysWithValues: net.root.namedParameters().map { ($0.name, $0.parameter.value.shape) })
        #expect(shapes["conv1.weight"] == [16, 1, 3, 3])
        #expect(shapes["layer2.0.body.conv1.weight"] == [32, 16, 3, 3])
        #expect(shapes["layer3.0.shortcut.0.weight"] == [64, 32, 1, 1])
        #expect(shapes["fc.weight"] == [10, 64])
    }

    @Test func cifarResNetOptionsAndErrors() throws {
        let registry = try registry()
        let small = try model(["kind": "cifar_resnet", "depth": 8, "width": 4, "classes": 3], registry: registry)
        #expect(small.outputExampleShape == [3])
        #expect(small.root.namedParameters().first { $0.name == "fc.weight" }?.parameter.value.shape == [3, 16])
        // depth 8 (one block per stage), width 4, one input channel, by hand (weights, then 2 per
        // batchnorm channel): stem 36 + 8; stage 1: 2·144 + 2·8; stage 2: 288 + 576 + 1x1 32 + 3·16;
        // stage 3: 1152 + 2304 + 128 + 3·32; fc 16·3 + 3.
        let expected: Int = 44 + 304 + 944 + 3680 + 51
        let count: Int = small.trainableParameters.reduce(0) { $0 + $1.parameter.value.count }
        #expect(count == expected)
        let diagnostics = Diagnostics()
        #expect(try PluginFixtures.layer(#"{"kind": "cifar_resnet", "depth": 21}"#, registry: registry, diagnostics: diagnostics) == nil)
        #expect(diagnostics.errors.map(\.description).contains(
            #"$.model: plugin vision, model "cifar_resnet": build failed (invalid argument): depth must be 6n+2 with 1 <= n <= 100 (8, 14, 20, …, 50, 56, 110), got 21"#),
            "\(diagnostics.errors)")
    }
}
