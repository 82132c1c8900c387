import Foundation
import Testing
@testable import StrataCore

/// Full-size networks built without data: torchvision's state-dict names and shapes (so its
/// weights load by name) and parameter counts, from the list scripts/make_zoo_fixtures.py writes;
/// and the source documents' own figures.
@Suite("Zoo sizes and names", .serialized)
struct ZooSizeTests {
    static func trainable(_ model: Model) -> Int { model.trainableParameters.reduce(0) { $0 + $1.parameter.value.count } }

    static let torchvision: [String] = ["alexnet", "vgg11", "vgg16_bn", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d"]

    @Test(arguments: torchvision)
    func torchvisionNamesShapesAndCounts(_ name: String) throws {
        let list = try JSONParser.parse([UInt8](try Data(contentsOf: Zoo.fixtures.appendingPathComponent("torchvision-names.json"))))
        let entry = try #require(list[name])
        // AlexNet's and VGG's classifiers fit 224x224 inputs; a ResNet's parameters do not depend on the size.
        let size = name.hasPrefix("resnet") ? 64 : 224
        let model = try Zoo.model(try #require(entry["model"]), exampleShape: [3, size, size], batch: 1, weights: .zeros)
        guard case let .array(state)? = entry["state"], case let .number(count)? = entry["parameters"] else { throw CoreError.runtime("bad list") }
        var expected: [String: [Int]] = [:]
        for item in state {
            guard case let .array(pair) = item, case let .string(key) = pair[0], case let .array(dims) = pair[1] else { continue }
            expected[key] = dims.compactMap { if case let .number(d) = $0 { Int(d) } else { nil } }
        }
        let ours = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.parameter.value.shape) })
        #expect(ours.count == expected.count, "\(name): \(ours.count) tensors, torchvision \(expected.count)")
        for (key, shape) in expected { #expect(ours[key] == shape, "\(name): \(key) is \(ours[key] ?? []), torchvision \(shape)") }
        #expect(Self.trainable(model) == Int(count), "\(name)")
    }

    @Test func sourceDocumentFigures() throws {
        // fast.ai lesson 7: SimpleNet([32*32*3, 40, 10]) has 122 920 + 410 parameters; ConvNet([3, 20, 40, 80], 10)
        // 560 + 7 240 + 28 880 + 810.
        let simple = try Zoo.model(["kind": "simplenet"], exampleShape: [3, 32, 32], batch: 1)
        #expect(simple.trainableParameters.map(\.parameter.value.count) == [122_880, 40, 400, 10])
        let conv = try Zoo.model(["kind": "convnet"], exampleShape: [3, 32, 32], batch: 1)
        #expect(conv.trainableParameters.map(\.parameter.value.count) == [540, 20, 7200, 40, 28_800, 80, 800, 10])
        // d2l's networks for one-channel Fashion-MNIST, 10 classes, at their input sizes.
        for (json, shape, count) in [
            (["kind": "alexnet", "variant": "d2l"] as JSONValue, [1, 224, 224], 46_764_746),
            (["kind": "vgg", "ratio": 4], [1, 224, 224], 43_093_322),
            (["kind": "nin"], [1, 224, 224], 1_992_166),
            (["kind": "resnet", "variant": "d2l"], [1, 96, 96], 11_178_378),
            (["kind": "mobilenet_v1"], [1, 28, 28], 3_216_650),
            (["kind": "lenet_bn"], [1, 28, 28], 61_070),
        ] {
            let model = try Zoo.model(json, exampleShape: shape, batch: 1, weights: .zeros)
            #expect(Self.trainable(model) == count, "\(json)")
        }
    }
}
