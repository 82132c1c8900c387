import Foundation
import Testing
@testable import StrataCore

/// The repository root, found from this file's place in it (Tests/StrataCoreTests/Recipe/).
private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func loadSchema() throws -> JSONSchemaValidator {
    let url = repositoryRoot.appendingPathComponent("schemas/recipe.schema.json")
    let schema = try JSONParser.parse([UInt8](try Data(contentsOf: url)))
    return try JSONSchemaValidator(schema: schema)
}

/// A small valid recipe that the negative tests change one thing at a time.
private let tinyRecipe = """
{
  "name": "tiny",
  "epochs": 1,
  "batch_size": 32,
  "data": {"train_limit": 512, "test_limit": null},
  "model": {
    "kind": "sequential",
    "layers": [
      {"kind": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1},
      {"kind": "relu"},
      {"kind": "adaptive_avgpool2d"},
      {"kind": "flatten"},
      {"kind": "linear", "out_features": 10}
    ]
  },
  "optimizer": {"kind": "sgd", "lr": 0.1}
}
"""

@Suite("Recipe JSON Schema")
struct SchemaTests {
    @Test func schemaUsesOnlyTheSupportedSubset() throws {
        _ = try loadSchema()
    }

    @Test func everyExampleRecipeConforms() throws {
        let validator = try loadSchema()
        let folder = repositoryRoot.appendingPathComponent("examples/recipes")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        #expect(!files.isEmpty, "examples/recipes holds no recipe")
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(file)))
            let recipe: JSONValue
            do {
                recipe = try JSONParser.parse(bytes)
            } catch {
                Issue.record("examples/recipes/\(file): \(error)")
                continue
            }
            let violations = validator.validate(recipe)
            #expect(violations.isEmpty, "examples/recipes/\(file):\n\(violations.map(\.description).joined(separator: "\n"))")
        }
    }

    /// The blocks fenced as ```` ```json recipe ```` in docs/recipes.md are whole recipes.
    @Test func everyRecipeInTheDocumentationConforms() throws {
        let validator = try loadSchema()
        let page = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/recipes.md"), encoding: .utf8)
        let blocks = page.components(separatedBy: "```json recipe\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        #expect(blocks.count >= 3)
        for (i, block) in blocks.enumerated() {
            let violations = validator.validate(try JSONParser.parse(block))
            #expect(violations.isEmpty, "docs/recipes.md, recipe \(i + 1):\n\(violations.map(\.description).joined(separator: "\n"))")
        }
    }

    @Test func builtInKindListMatchesTheLayerDefinitions() throws {
        let validator = try loadSchema()
        let listed = try #require(validator.definitions["builtInLayerKind"]?["properties"]?["kind"]?["enum"]?.arrayValue)
        let branches = try #require(validator.definitions["layer"]?["oneOf"]?.arrayValue)
        let defined = branches.compactMap { branch -> JSONValue? in
            guard let name = branch["$ref"]?.stringValue?.split(separator: "/").last else { return nil }
            return validator.definitions[String(name)]?["properties"]?["kind"]?["const"]
        }
        #expect(Set(defined.compactMap(\.stringValue)) == Set(listed.compactMap(\.stringValue)))
        #expect(defined.count == branches.count - 1, "every branch but the plugin layer has a const kind")
    }

    /// The violations of the tiny recipe after `change`.
    func violations(_ change: (inout JSONValue) throws -> Void) throws -> [String] {
        var recipe = try JSONParser.parse(tinyRecipe)
        try change(&recipe)
        return try loadSchema().validate(recipe).map(\.description)
    }

    @Test func tinyRecipeConforms() throws {
        #expect(try violations { _ in } == [])
    }

    @Test func wrongTypesAreRejected() throws {
        #expect(try violations { try $0.set(path: "epochs", value: "ten") } == [#"$.epochs: expected integer, got string "ten""#])
        #expect(try violations { try $0.set(path: "epochs", value: 2.5) } == ["$.epochs: expected integer, got number 2.5"])
        #expect(try violations { try $0.set(path: "data.test_limit", value: true) } == ["$.data.test_limit: expected integer or null, got boolean true"])
        #expect(try violations { try $0.set(path: "model.layers[0].kernel_size", value: [3]) }
            == ["$.model.layers[0].kernel_size: must have at least 2 elements, got 1"])
        #expect(try violations { try $0.set(path: "model.layers[0].kernel_size", value: "3x3") }
            == [#"$.model.layers[0].kernel_size: expected integer or array, got string "3x3""#])
        #expect(try violations { try $0.set(path: "model.layers[1].kind", value: 3) } == ["$.model.layers[1].kind: expected string, got number 3"])
    }

    @Test func missingRequiredKeysAreRejected() throws {
        #expect(try violations { $0 = .object(try #require($0.objectValue).removing("optimizer")) } == [#"$: missing required key "optimizer""#])
        #expect(try violations { try $0.set(path: "model.layers[4]", value: ["kind": "linear"]) }
            == [#"$.model.layers[4]: missing required key "out_features""#])
        #expect(try violations { try $0.set(path: "data.normalize", value: ["mean": [0.5]]) } == [#"$.data.normalize: missing required key "std""#])
    }

    @Test func unknownKeysAreRejected() throws {
        #expect(try violations { try $0.set(path: "epoch", value: 3) }
            == ["$.epoch: unknown key; allowed keys: $schema, name, seed, threads, epochs, batch_size, data, init, model, optimizer, loss, callbacks, gradient_clip, evaluation, scheme, checkpoint"])
        #expect(try violations { try $0.set(path: "model.layers[0].stride_", value: 2) }
            == ["$.model.layers[0].stride_: unknown key; allowed keys: kind, name, out_channels, kernel_size, stride, padding, dilation, groups, bias, init"])
        #expect(try violations { try $0.set(path: "optimizer", value: ["kind": "adam", "momentum": 0.9]) }
            == ["$.optimizer.momentum: unknown key; allowed keys: kind, lr, beta1, beta2, eps, weight_decay, amsgrad, param_groups"])
        #expect(try violations { try $0.set(path: "model.layers[1].init", value: "default") }
            == ["$.model.layers[1].init: unknown key; allowed keys: kind, name"])
        #expect(try violations { try $0.set(path: "callbacks", value: [["kind": "lr_schedule", "schedule": "step", "eta_min": 0]]) }
            == ["$.callbacks[0].eta_min: unknown key; allowed keys: kind, schedule, step_size, gamma"])
    }

    @Test func outOfRangeValuesAreRejected() throws {
        #expect(try violations { try $0.set(path: "batch_size", value: 0) } == ["$.batch_size: must be at least 1, got 0"])
        #expect(try violations { try $0.set(path: "threads", value: 65) } == ["$.threads: must be at most 64, got 65"])
        #expect(try violations { try $0.set(path: "optimizer.lr", value: 0) } == ["$.optimizer.lr: must be greater than 0, got 0"])
        #expect(try violations { try $0.set(path: "model.layers[1]", value: ["kind": "dropout", "p": 1]) }
            == ["$.model.layers[1].p: must be at most 0.999999, got 1"])
        #expect(try violations { try $0.set(path: "data.normalize", value: ["mean": [0.5], "std": [0]]) }
            == ["$.data.normalize.std[0]: must be greater than 0, got 0"])
        #expect(try violations { try $0.set(path: "model.layers[2].output_size", value: 2) } == [])
        #expect(try violations { try $0.set(path: "model.layers[2].output_size", value: 0) }.contains { $0.hasPrefix("$.model.layers[2].output_size") })
    }

    /// Optimizer and callback kinds the core does not provide may come from plugins: the schema
    /// accepts them as objects with a string kind (and checks the host-read lr and param_groups),
    /// and the registry reports a kind nobody registers.
    @Test func pluginOptimizerAndCallbackKindsAreAcceptedAsGenericObjects() throws {
        #expect(try violations { try $0.set(path: "optimizer", value: ["kind": "rmsprop", "lr": 0.01, "centered": true]) } == [])
        #expect(try violations { try $0.set(path: "callbacks", value: [["kind": "grad_norm_log", "every": 2]]) } == [])
        #expect(try violations { try $0.set(path: "optimizer", value: ["kind": "rmsprop", "lr": -1]) }.contains { $0.hasPrefix("$.optimizer") })
        #expect(try violations { try $0.set(path: "optimizer", value: ["kind": "sgd", "lr": 0.1, "centered": true]) }.contains { $0.hasPrefix("$.optimizer") })
        let diagnostics = Diagnostics()
        _ = Recipe.parseOptimizer(try JSONParser.parse(#"{"kind": "sgdd"}"#), registry: .builtIn(), diagnostics: diagnostics)
        #expect(diagnostics.errors.map(\.description) == [#"$.optimizer.kind: unknown optimizer kind "sgdd"; known kinds: adam, adamw, sgd"#])
    }

    @Test func unknownChoicesListTheAllowedValues() throws {
        #expect(try violations { try $0.set(path: "callbacks", value: [["kind": "lr_schedule", "schedule": "cosin"]]) }
            == [#"$.callbacks[0].schedule: expected one of "cosine", "step", "exponential", "warmup", "one_cycle", "sgdr", got string "cosin""#])
        #expect(try violations { try $0.set(path: "init", value: "he") }
            == [#"$.init: expected one of "default", "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", got string "he""#])
    }

    @Test func pluginLayerKindsAreAcceptedAsGenericObjects() throws {
        #expect(try violations { try $0.set(path: "model.layers[1]", value: ["kind": "mish", "beta": 2, "name": "act"]) } == [])
        #expect(try violations { try $0.set(path: "model.layers[1]", value: ["kind": "mish", "name": 5]) }
            == ["$.model.layers[1].name: expected string or null, got number 5"])
    }

    @Test func nestedLayersAreCheckedStrictly() throws {
        let block: JSONValue = [
            "kind": "residual", "name": "block",
            "body": ["kind": "sequential", "layers": [["kind": "conv2d", "out_channels": 4, "kernel_size": 3, "padding": 1, "bias": "no"]]],
            "shortcut": .null,
        ]
        #expect(try violations { try $0.set(path: "model.layers[1]", value: block) }
            == [#"$.model.layers[1].body.layers[0].bias: expected boolean, got string "no""#])
    }

    @Test func validatorRefusesKeywordsOutsideTheSubset() {
        let schema: JSONValue = ["type": "object", "properties": ["name": ["type": "string", "pattern": "^a"]]]
        #expect(throws: JSONSchemaValidator.SchemaProblem.self) { try JSONSchemaValidator(schema: schema) }
        let badReference: JSONValue = ["$ref": "#/$defs/missing"]
        #expect(throws: JSONSchemaValidator.SchemaProblem.self) { try JSONSchemaValidator(schema: badReference) }
    }
}

private extension JSONObject {
    func removing(_ key: String) -> JSONObject {
        var copy = self
        copy.removeValue(forKey: key)
        return copy
    }
}
