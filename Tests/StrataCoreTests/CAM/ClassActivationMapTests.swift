import Foundation
import Testing
@testable import StrataCore

/// Nested in the forward-hook suite: a map installs a hook, and that suite counts copies and
/// active hooks process-wide, so they must not run at the same time.
extension ForwardHookTests {
@Suite("Class activation maps")
struct ClassActivationMapTests {
    /// The network of scripts/make_cam_fixture.py: conv 3×3 1→4, relu, conv 3×3 stride 2 4→6,
    /// in-place relu, global average pool, flatten, linear 6→3, on 8×8 grey images.
    static func model() throws -> Model {
        let layers: [(name: String, layer: any Layer)] = [
            ("conv1", Conv2d(outChannels: 4, kernelSize: (3, 3), padding: (1, 1))), ("relu1", Activation(.relu)),
            ("conv2", Conv2d(outChannels: 6, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1))), ("relu2", InPlaceReLU()),
            ("pool", GlobalPool2d(.average)), ("flatten", Flatten()), ("fc", Linear(outFeatures: 3)),
        ]
        var context = BuildContext(seed: 0)
        return try Model(root: Sequential(layers), exampleShape: [1, 8, 8], maxBatch: 2, context: &context)
    }

    static func fixture() throws -> JSONValue {
        let url = RecipeFixtures.repositoryRoot.appendingPathComponent("Tests/StrataCoreTests/Fixtures/cam/small.json")
        return try JSONParser.parse([UInt8](try Data(contentsOf: url)))
    }

    static func floats(_ v: JSONValue?) throws -> [Float] {
        guard case let .array(items)? = v?["data"] else { throw CoreError.runtime("fixture: no data") }
        return items.map { if case let .number(x) = $0 { Float(x) } else { .nan } }
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    @Test func mapMatchesPyTorch() throws {
        let fixture = try Self.fixture()
        let model = try Self.model()
        for (name, p) in model.namedParameters {
            let values = try Self.floats(fixture["parameters"]?[name])
            try #require(values.count == p.value.count, "\(name)")
            for i in values.indices { p.value.data[i] = values[i] }
        }
        let cam = try ClassActivationMap(model: model)
        #expect(cam.featureLayer == "relu2")
        #expect(cam.poolKind == "adaptive_avgpool2d")
        let x = try Self.floats(fixture["x"])  // [2, 1, 8, 8]
        guard case let .array(images)? = fixture["images"] else { throw CoreError.runtime("fixture: no images") }
        for (i, image) in images.enumerated() {
            let input = Tensor(shape: [1, 1, 8, 8], values: Array(x[(i * 64)..<((i + 1) * 64)]))
            let result = try cam.compute(model: model, input: input)
            guard case let .number(predicted)? = image["predicted"] else { throw CoreError.runtime("fixture: no predicted") }
            #expect(result.predicted == Int(predicted))
            #expect(result.height == 4 && result.width == 4)
            let expected = try Self.floats(image["map_predicted"])
            let got = result.upsampled(height: 8, width: 8)
            #expect(Self.maxDifference(got, expected) < 1e-5, "image \(i): \(got) vs \(expected)")
            let other = try cam.compute(model: model, input: input, mapClass: 2)
            #expect(other.mapClass == 2)
            #expect(Self.maxDifference(other.upsampled(height: 8, width: 8), try Self.floats(image["map_class2"])) < 1e-5)
            #expect(Self.maxDifference(got, other.upsampled(height: 8, width: 8)) > 1e-3, "the class changes the map")
        }
        #expect(throws: CoreError.self) { try cam.compute(model: model, input: Tensor(shape: [1, 1, 8, 8]), mapClass: 3) }
    }

    @Test func aHeadThatIsNotGlobalPoolAndLinearIsRefused() throws {
        var context = BuildContext(seed: 0)
        let flat = try Model(root: Sequential([Conv2d(outChannels: 2, kernelSize: (3, 3)), Flatten(), Linear(outFeatures: 3)]),
                             exampleShape: [1, 6, 6], maxBatch: 1, context: &context)
        do {
            _ = try ClassActivationMap(model: flat)
            Issue.record("a conv → flatten → linear head was accepted")
        } catch let error as CoreError {
            #expect("\(error)".contains("not a global pool"), "\(error)")
        }
        let softmaxEnd = try Model(root: Sequential([Conv2d(outChannels: 2, kernelSize: (3, 3)), GlobalPool2d(.average), Flatten(),
                                                     Linear(outFeatures: 3), LogSoftmax()]),
                                   exampleShape: [1, 6, 6], maxBatch: 1, context: &context)
        #expect(throws: CoreError.self) { try ClassActivationMap(model: softmaxEnd) }
    }

    @Test func bilinearUpsamplingFollowsAlignCornersFalse() {
        // [1, 2] → 4: positions −0.25 (clamped 0), 0.25, 0.75, 1.25 → 1, 1.25, 1.75, 2.
        #expect(ClassActivationMap.upsample([1, 2], height: 1, width: 2, toHeight: 1, toWidth: 4) == [1, 1.25, 1.75, 2])
    }
}
}
