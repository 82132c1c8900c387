import Foundation
import Testing
@testable import StrataCore

@Suite("Gradient clipping", .serialized)
struct GradientClippingTests {
    @Test func byGlobalNormScalesEveryGradientLikeClipGradNorm() {
        // ‖(3, 4, 12)‖ = 13; max_norm 6.5 scales by 6.5 / (13 + 1e-6).
        let a = Tensor(shape: [2], values: [3, 4]), b = Tensor(shape: [1], values: [12])
        let norm = GradientClipping(maxNorm: 6.5).apply([a, b])
        #expect(norm == 13)
        let scale = Float(6.5 / (13 + 1e-6))
        #expect(a.array() == [3 * scale, 4 * scale] && b.array() == [12 * scale])
        // Below the limit nothing changes.
        let c = Tensor(shape: [2], values: [0.3, 0.4])
        #expect(abs(GradientClipping(maxNorm: 1).apply([c]) - 0.5) < 1e-7)
        #expect(c.array() == [0.3, 0.4])
    }

    @Test func byValueClampsEachElementThenTheNormIsOfTheClampedGradient() {
        let a = Tensor(shape: [4], values: [0.05, -0.3, 2, -0.1])
        let norm = GradientClipping(value: 0.1).apply([a])
        #expect(a.array() == [0.05, -0.1, 0.1, -0.1])
        #expect(abs(norm - (0.05 * 0.05 + 3 * 0.01).squareRoot()) < 1e-7)
    }

    @Test func aRunLogsTheNormAndBadOptionsAreRefusedAtTheirPath() throws {
        let data = try SyntheticData.folder(train: .init(count: 48), test: .init(count: 16))
        let registry = ComponentRegistry.builtIn()
        let file = RecipeFixtures.write(SyntheticData.recipe(data: data, epochs: 2))
        let recipe = try Recipe.load(file: file, overrides: [#"gradient_clip={"value": 0.5, "max_norm": 1}"#], registry: registry)
        #expect(recipe.gradientClip == GradientClipping(value: 0.5, maxNorm: 1))
        let directory = RecipeFixtures.temporaryDirectory("clip")
        _ = try Experiment(recipe: recipe, registry: registry, file: file).run(directory: directory, recipeText: "")
        let lines = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let record = try JSONParser.parse(String(line))
            let mean = try #require(record["grad_norm"]?.numberValue), largest = try #require(record["grad_norm_max"]?.numberValue)
            #expect(mean > 0 && mean <= largest)
        }
        for (value, path) in [(#"{"value": -1}"#, "$.gradient_clip.value"), (#"{"max_norm": 0}"#, "$.gradient_clip.max_norm"),
                              (#"{}"#, "$.gradient_clip"), (#"{"norm": 1}"#, "$.gradient_clip.norm")] {
            #expect {
                try Recipe.load(file: file, overrides: ["gradient_clip=\(value)"], registry: registry)
            } throws: { error in
                (error as? RecipeValidationError)?.errors.contains { $0.path == path } == true
            }
        }
    }
}
