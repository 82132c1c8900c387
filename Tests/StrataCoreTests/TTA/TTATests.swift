import Foundation
import Testing
@testable import StrataCore

@Suite("Test-time augmentation")
struct TTATests {
    /// A linear model on `[1, h, w]` images with the given weights `[K, h·w]` and zero bias.
    static func linearModel(h: Int, w: Int, weights: [Float], classes: Int, batch: Int = 4) throws -> Model {
        let linear = Linear(outFeatures: classes)
        var context = BuildContext(seed: 1)
        let model = try Model(root: Sequential([Flatten(), linear]), exampleShape: [1, h, w], maxBatch: batch, context: &context)
        let params = model.namedParameters
        let weight = try #require(params.first { $0.name.hasSuffix("weight") }?.parameter.value)
        let bias = try #require(params.first { $0.name.hasSuffix("bias") }?.parameter.value)
        for i in 0..<weights.count { weight.data[i] = weights[i] }
        bias.zero()
        return model
    }

    static func loader(_ pixels: [UInt8], labels: [Int32], h: Int, w: Int, classes: Int, batch: Int = 4) throws -> BatchLoader {
        let data = ImageDataset(pixels: pixels, labels: labels, channels: 1, height: h, width: w, classCount: classes)
        return try BatchLoader(dataset: data, batchSize: batch, mode: .evaluation)
    }

    @Test func viewsMirrorAndShiftWithMirrorPadding() {
        // 1 × 1 × 3 × 3 image with values 1...9, row-major.
        let x = Tensor(shape: [1, 1, 3, 3], values: (1...9).map(Float.init))
        let y = Tensor(shape: [1, 1, 3, 3])
        TTAOptions.write(view: (true, 0, 0), of: x, into: y)
        #expect(y.array() == [3, 2, 1, 6, 5, 4, 9, 8, 7])
        // Shift (+1, +1): rows 1, 2, 2 (index 3 mirrors to 2), columns the same.
        TTAOptions.write(view: (false, 1, 1), of: x, into: y)
        #expect(y.array() == [5, 6, 6, 8, 9, 9, 8, 9, 9])
        // Shift (−1, +1): rows 0 (−1 mirrors to 0), 0, 1.
        TTAOptions.write(view: (false, -1, 1), of: x, into: y)
        #expect(y.array() == [2, 3, 3, 2, 3, 3, 5, 6, 6])
        #expect(TTAOptions().views.count == 6)
        #expect(TTAOptions(flip: false, shift: 3).views.map { [$0.dy, $0.dx] } == [[0, 0], [-3, -3], [-3, 3], [3, -3], [3, 3]])
    }

    /// Logits (a, 0) for the image [a, b] (values on the 0...1 scale): the mirror image scores
    /// (b, 0), so the TTA probability of class 0 is (σ(a) + σ(b)) / 2, computed here by hand.
    @Test func averagesTheProbabilitiesOfAFlipSensitiveModel() throws {
        let model = try Self.linearModel(h: 1, w: 2, weights: [1, 0, 0, 0], classes: 2)
        // Images [255, 0] label 0, [0, 255] label 0, [255, 255] label 1.
        let loader = try Self.loader([255, 0, 0, 255, 255, 255], labels: [0, 0, 1], h: 1, w: 2, classes: 2)
        let report = try TestTimeAugmentation.evaluate(model: model, loader: loader, options: TTAOptions(flip: true, shift: 0))
        func sigmoid(_ a: Double) -> Double { 1 / (1 + exp(-a)) }
        // Plain p(label): σ(1), σ(0) = 0.5, 1 − σ(1).
        let plainLoss = -(log(sigmoid(1)) + log(0.5) + log(1 - sigmoid(1))) / 3
        // TTA p(class 0): (σ(1) + σ(0)) / 2 for both of the first two, σ(1) for the third.
        let t = (sigmoid(1) + 0.5) / 2
        let ttaLoss = -(2 * log(t) + log(1 - sigmoid(1))) / 3
        #expect(report.views == 2 && report.examples == 3)
        #expect(abs(report.plain.logLoss - plainLoss) < 1e-6, "plain \(report.plain.logLoss) vs \(plainLoss)")
        #expect(abs(report.tta.logLoss - ttaLoss) < 1e-6, "tta \(report.tta.logLoss) vs \(ttaLoss)")
        // Plain: example 0 right; example 1 ties (0.5, 0.5) → argmax 0, right; example 2 wrong.
        #expect(report.plain.accuracy == 2.0 / 3)
        // TTA: both first examples at 0.616 → right; the third unchanged, wrong.
        #expect(report.tta.accuracy == 2.0 / 3)
        #expect(abs(t - 0.6155) < 1e-3)
    }

    /// Global max pooling is blind to mirroring, and a 2-pixel shift keeps an image's brightest
    /// pixel when it lies in the middle: every view scores the same, so TTA changes nothing.
    @Test func changesNothingForAnInvariantModel() throws {
        let (h, w, classes, count) = (8, 8, 3, 10)
        var random = RandomStream(seed: 5, stream: 0)
        var pixels: [UInt8] = []
        var labels: [Int32] = []
        for i in 0..<count {
            var image = (0..<(h * w)).map { _ in UInt8(random.next() % 200) }
            image[4 * w + 3] = UInt8(200 + i * 5)  // the brightest pixel, near the centre
            pixels += image
            labels.append(Int32(i % classes))
        }
        let pool = GlobalPool2d(.max), linear = Linear(outFeatures: classes)
        var context = BuildContext(seed: 3)
        let model = try Model(root: Sequential([pool, Flatten(), linear]), exampleShape: [1, h, w], maxBatch: 4, context: &context)
        let loader = try Self.loader(pixels, labels: labels, h: h, w: w, classes: classes)
        let report = try TestTimeAugmentation.evaluate(model: model, loader: loader, options: TTAOptions(flip: true, shift: 2))
        #expect(report.views == 6 && report.examples == count)
        #expect(abs(report.tta.logLoss - report.plain.logLoss) < 1e-9)
        #expect(report.tta.accuracy == report.plain.accuracy)
        // A linear model whose class-0 score grows with the column does change: the test can fail.
        let sensitive = try Self.linearModel(h: h, w: w, weights: (0..<(classes * h * w)).map { $0 < h * w ? Float($0 % w) / 50 : 0 }, classes: classes)
        let other = try TestTimeAugmentation.evaluate(model: sensitive, loader: Self.loader(pixels, labels: labels, h: h, w: w, classes: classes),
                                                      options: TTAOptions(flip: true, shift: 2))
        #expect(abs(other.tta.logLoss - other.plain.logLoss) > 1e-4)
    }

    /// (schema violations, core errors) of a recipe with `evaluation.tta` set to `tta`.
    static func check(_ tta: String) throws -> (schema: [String], core: [String]) {
        let text = #"{"epochs": 1, "model": {"kind": "sequential", "layers": [{"kind": "flatten"}, {"kind": "linear", "out_features": 10}]}, "optimizer": {"kind": "sgd", "lr": 0.1}, "evaluation": {"tta": \#(tta)}}"#
        let json = try JSONParser.parse(text)
        let diagnostics = Diagnostics()
        _ = Recipe.parse(json, defaultName: "t", registry: .builtIn(), diagnostics: diagnostics)
        let url = RecipeFixtures.repositoryRoot.appendingPathComponent("schemas/recipe.schema.json")
        let validator = try JSONSchemaValidator(schema: try JSONParser.parse([UInt8](try Data(contentsOf: url))))
        return (validator.validate(json).map(\.description), diagnostics.errors.map(\.description))
    }

    @Test func recipeOptionIsReadAndBadValuesAreRefusedAtTheirPath() throws {
        for good in [#"{"flip": false, "shift": 4}"#, "true", "false", "{}"] {
            let (schema, core) = try Self.check(good)
            #expect(schema.isEmpty && core.isEmpty, "\(good): \(schema) \(core)")
        }
        for (bad, path) in [(#"{"shift": -1}"#, "$.evaluation.tta.shift"), (#"{"flip": "yes"}"#, "$.evaluation.tta.flip"),
                            (#"{"crops": 4}"#, "$.evaluation.tta.crops"), ("3", "$.evaluation.tta"),
                            (#"{"shift": 65}"#, "$.evaluation.tta.shift")] {
            let (schema, core) = try Self.check(bad)
            #expect(core.contains { $0.hasPrefix(path) }, "core: \(bad) → \(core)")
            #expect(!schema.isEmpty, "schema accepts \(bad)")
        }
        #expect(try Self.check(#"{"flip": false, "shift": 0}"#).core.contains { $0.hasPrefix("$.evaluation.tta:") })
    }
}
