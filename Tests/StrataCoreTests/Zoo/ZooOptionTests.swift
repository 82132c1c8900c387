import Foundation
import Testing
@testable import StrataCore

/// Bad options of the zoo's builders are refused with a message naming the plugin, the builder
/// and the option; good ones change the graph as documented.
@Suite("Zoo builder options", .serialized)
struct ZooOptionTests {
    static let refusals: [(String, String)] = [
        (#"{"kind": "resnet", "depth": 19}"#, "depth must be 18, 34, 50, 101 or 152"),
        (#"{"kind": "resnet", "groups": 32}"#, "bottleneck blocks"),
        (#"{"kind": "resnet", "variant": "keras"}"#, "variant must be one of"),
        (#"{"kind": "alexnet", "hidden": -3}"#, "hidden must be between"),
        (#"{"kind": "alexnet", "dropout": 1}"#, "dropout must be at least 0 and below 1"),
        (#"{"kind": "vgg", "config": "F"}"#, "config must be"),
        (#"{"kind": "vgg", "ratio": 0}"#, "ratio must be between"),
        (#"{"kind": "mobilenet_v1", "alpha": 0}"#, "alpha must be above 0"),
        (#"{"kind": "nin", "classes": 0}"#, "classes must be between"),
        (#"{"kind": "convnet", "widths": [20, 0]}"#, "widths must be"),
        (#"{"kind": "fastai_resnet2", "p": -0.1}"#, "p must be at least 0"),
    ]

    @Test func badOptionsAreRefusedNamingTheOption() throws {
        for (json, message) in Self.refusals {
            do {
                _ = try Zoo.model(try JSONParser.parse(json), exampleShape: [1, 32, 32], batch: 1)
                Issue.record("\(json) was accepted")
            } catch {
                #expect("\(error)".contains(message), "\(json): \(error)")
                #expect("\(error)".contains("vision"), "\(json): \(error)")
            }
        }
    }

    @Test func optionsShapeTheNetwork() throws {
        func count(_ json: String, _ shape: [Int] = [1, 32, 32]) throws -> Int {
            try Zoo.model(try JSONParser.parse(json), exampleShape: shape, batch: 1, weights: .zeros)
                .trainableParameters.reduce(0) { $0 + $1.parameter.value.count }
        }
        // VGG-A's convolutions at ratio 2 hold a quarter of the weights (biases halve), and
        // configuration C adds three 1x1 convolutions to D.
        let a1 = try count(#"{"kind": "vgg", "hidden": 8}"#), a2 = try count(#"{"kind": "vgg", "hidden": 8, "ratio": 2}"#)
        #expect(a1 > 3 * a2)
        let c = try count(#"{"kind": "vgg", "config": "C", "hidden": 8}"#), d = try count(#"{"kind": "vgg", "config": "D", "hidden": 8}"#)
        #expect(d - c == (256 * 256 * 8 + 2 * 512 * 512 * 8))  // 3x3 minus 1x1 weights
        // ResNeXt's grouped 3x3 convolutions: 32x4d has fewer parameters than ResNet-50.
        #expect(try count(#"{"kind": "resnet", "depth": 50, "groups": 32, "width_per_group": 4}"#) < (try count(#"{"kind": "resnet", "depth": 50}"#)))
        // MobileNet's width multiplier 0.5 roughly quarters the pointwise weights.
        #expect(try count(#"{"kind": "mobilenet_v1", "alpha": 0.5}"#) * 3 < (try count(#"{"kind": "mobilenet_v1"}"#)))
        // d2l's ResNet adds a bias to each of ResNet-18's 20 convolutions and drops 3 shortcut BatchNorms.
        let tv = try count(#"{"kind": "resnet"}"#, [1, 96, 96]), d2l = try count(#"{"kind": "resnet", "variant": "d2l"}"#, [1, 96, 96])
        #expect(d2l - tv == (64 + 64 * 4 + 128 * 4 + 256 * 4 + 512 * 4 + 128 + 256 + 512) - 2 * (128 + 256 + 512))
    }
}
