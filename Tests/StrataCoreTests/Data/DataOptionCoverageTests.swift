import Foundation
import Testing
@testable import StrataCore

/// Every data option is documented in docs/recipes.md and in the JSON Schema, and bad values are
/// refused at their JSON path.
@Suite("Data options: documented, in the schema, refused at their path")
struct DataOptionCoverageTests {
    static let dataKeys = ["dataset", "path", "train_limit", "test_limit", "normalize", "classes", "augment", "channels", "size",
                           "valid_fraction", "skip_bad", "cache", "train_transforms", "eval_transforms"]
    static let transformKinds = ["resize", "center_crop", "random_resized_crop", "pad_crop", "flip", "normalize"]

    @Test func everyOptionIsDocumentedAndInTheSchema() throws {
        let root = RecipeFixtures.repositoryRoot
        let page = try String(contentsOf: root.appendingPathComponent("docs/recipes.md"), encoding: .utf8)
        let schema = try JSONParser.parse(Array(try Data(contentsOf: root.appendingPathComponent("schemas/recipe.schema.json"))))
        guard case let .object(properties)? = schema["$defs"]?["data"]?["properties"] else {
            Issue.record("no $defs.data.properties in the schema")
            return
        }
        #expect(Set(properties.keys) == Set(Self.dataKeys))
        for key in Self.dataKeys { #expect(page.contains("| `\(key)` |"), "docs/recipes.md has no row for data.\(key)") }
        for kind in Self.transformKinds { #expect(page.contains("| `\(kind)` |"), "docs/recipes.md has no row for the transform \(kind)") }
        let schemaText = String(decoding: try Data(contentsOf: root.appendingPathComponent("schemas/recipe.schema.json")), as: UTF8.self)
        for kind in Self.transformKinds { #expect(schemaText.contains("\"const\": \"\(kind)\""), "the schema lacks the transform \(kind)") }
        #expect(page.contains("`memory_mb`"))
    }

    @Test func badValuesAreRefusedAtTheirPath() throws {
        try DataTestFiles.withDirectory { dir in
            try ImageSourceTests.folder(dir, [("a", 2), ("b", 2)])
            let folder = """
            {"epochs": 1, "model": {"kind": "flatten"}, "optimizer": {"kind": "sgd", "lr": 0.1},
             "data": {"dataset": "image-folder", "path": "\(dir)", "skip_bad": "yes", "cache": {"memory": 1}, "size": [2],
              "train_transforms": [{"kind": "resize"}, {"kind": "center_crop", "size": 0}, {"kind": "pad_crop", "pad": -1},
                                   {"kind": "normalize", "mean": "auto", "std": [1]}],
              "eval_transforms": [{"kind": "normalize", "mean": "automatic"}]}}
            """
            let other = """
            {"epochs": 1, "model": {"kind": "flatten"}, "optimizer": {"kind": "sgd", "lr": 0.1},
             "data": {"dataset": "fashion-mnist", "channels": 3, "skip_bad": true, "cache": {"memory_mb": 1}, "train_limit": 0}}
            """
            let expected = [
                "$.data.size: expected an integer or [height, width], got an array of 1",
                "$.data.skip_bad: expected true or false, got string \"yes\"",
                "$.data.cache.memory: unknown key; known keys here: memory_mb",
                "$.data.train_transforms[0].size: is required",
                "$.data.train_transforms[1].size: 0 is out of range 1...4096",
                "$.data.train_transforms[2].pad: -1 is out of range 0...1024",
                "$.data.train_transforms[3].std: must be left out with \"mean\": \"auto\" (both are computed)",
                "$.data.eval_transforms[0].mean: expected an array of 1 to 64 numbers, one per channel",
                "$.data.channels: applies to \"image-folder\" only (dataset is \"fashion-mnist\")",
                "$.data.skip_bad: applies to \"image-folder\" only (dataset is \"fashion-mnist\")",
                "$.data.cache: applies to \"image-folder\" only (dataset is \"fashion-mnist\")",
            ]
            var found: [String] = []
            for text in [folder, other] {
                do {
                    _ = try Recipe.load(file: RecipeFixtures.write(text, name: "data-options"), registry: ComponentRegistry.builtIn())
                } catch let e as RecipeValidationError {
                    found += e.errors.map(\.description)
                }
            }
            for e in expected { #expect(found.contains(e), "missing: \(e)\nfound: \(found)") }
            #expect(found.contains { $0.hasPrefix("$.data.train_limit: 0 is out of range") }, "\(found)")
        }
    }
}
