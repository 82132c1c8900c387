import Foundation
import Testing
@testable import StrataCore

/// Runs the built `strata` executable (it sits beside the test bundle) and pins what users see.
@Suite("The strata command line")
struct CommandLineTests {
    func strata(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runStrata(arguments)
    }

    @Test func badRecipeExitsTwoWithEveryPath() throws {
        let file = RecipeFixtures.write("""
        {"epochs": 1, "optimizer": {"kind": "sgd", "lr": "fast"},
         "model": {"kind": "sequential", "layers": [{"kind": "conv2d", "out_channels": 4}]}}
        """)
        let r = try strata(["run", file, "--out", RecipeFixtures.temporaryDirectory().path])
        #expect(r.status == 2)
        #expect(r.err == """
        strata: \(file): 2 errors in the recipe:
          $.model.layers[0].kernel_size: is required
          $.optimizer.lr: expected a number, got string "fast"

        """)
    }

    @Test func truncatedRecipeNamesLineAndColumn() throws {
        let file = RecipeFixtures.write("{\"epochs\": 1, \"model\": {\"kind\": ")
        let r = try strata(["summary", file])
        #expect(r.status == 2)
        #expect(r.err.hasPrefix("strata: \(file): line 1, column 33: "), "\(r.err)")
    }

    @Test func missingFilesAndBadOverridesExitTwo() throws {
        #expect(try strata(["run", "/nonexistent/recipe.json"]).status == 2)
        let file = RecipeFixtures.write(RecipeFixtures.smallCNN)
        let r = try strata(["summary", file, "--set", "optimizer.lr"])
        #expect(r.status == 2)
        #expect(r.err.contains("--set optimizer.lr: expected path=value"))
        #expect(try strata(["run"]).status == 2)
    }

    @Test func summaryListsLayersShapesAndParameters() throws {
        let file = RecipeFixtures.repositoryRoot.appendingPathComponent("examples/recipes/lenet-fashion.json").path
        let r = try strata(["summary", file, "--json"])
        #expect(r.status == 0, "\(r.err)")
        let json = try JSONParser.parse(r.out)
        // d2l's LeNet: 61 706 parameters.
        #expect(json["total_parameters"] == .number(61706))
        let layers = try #require(json["layers"]?.arrayValue)
        #expect(layers[1]["output_shape"] == .array([-1, 6, 28, 28].map { .number(Double($0)) }))
        #expect(layers.last?["output_shape"] == .array([.number(-1), .number(10)]))
        let table = try strata(["summary", file])
        #expect(table.out.contains("trainable parameters: 61706"))
    }
}
