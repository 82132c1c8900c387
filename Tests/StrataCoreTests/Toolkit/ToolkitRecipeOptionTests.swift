import Foundation
import Testing
@testable import StrataCore

/// The recipe options of the training toolkit (schedules, AMSGrad, clipping, best checkpoints):
/// accepted by the schema and the core alike, and bad values refused by both at the same JSON path.
@Suite("Training toolkit recipe options")
struct ToolkitRecipeOptionTests {
    static let base = """
    {"name": "opts", "epochs": 2, "batch_size": 8,
     "model": {"kind": "sequential", "layers": [{"kind": "flatten"}, {"kind": "linear", "out_features": 10}]},
     "optimizer": {"kind": "sgd", "lr": 0.1}}
    """

    func schemaViolations(_ recipe: JSONValue) throws -> [String] {
        let url = RecipeFixtures.repositoryRoot.appendingPathComponent("schemas/recipe.schema.json")
        let validator = try JSONSchemaValidator(schema: try JSONParser.parse([UInt8](try Data(contentsOf: url))))
        return validator.validate(recipe).map(\.description)
    }

    /// (schema violations, core errors) of the base recipe with `path` set to `value`.
    func check(_ path: String, _ value: String) throws -> (schema: [String], core: [String]) {
        var json = try JSONParser.parse(Self.base)
        try json.set(path: path, value: try JSONParser.parse(value))
        let diagnostics = Diagnostics()
        _ = Recipe.parse(json, defaultName: "opts", registry: .builtIn(), diagnostics: diagnostics)
        return (try schemaViolations(json), diagnostics.errors.map(\.description))
    }

    @Test(arguments: [
        ("callbacks", #"[{"kind": "lr_schedule", "schedule": "one_cycle", "pct_start": 0.3, "div": 10, "div_final": 1000, "moms": [0.9, 0.8, 0.9]}]"#),
        ("callbacks", #"[{"kind": "lr_schedule", "schedule": "one_cycle", "moms": null}]"#),
        ("callbacks", #"[{"kind": "lr_schedule", "schedule": "sgdr", "cycle_len": 1, "cycle_mult": 2, "snapshots": false}]"#),
        ("callbacks", #"[{"kind": "lr_schedule", "schedule": "exponential", "gamma": 0.5}]"#),
        ("callbacks", #"[{"kind": "lr_schedule", "schedule": "warmup", "warmup_epochs": 0.5, "start_factor": 0.01}]"#),
        ("callbacks", #"[{"kind": "checkpoint", "monitor": "test_acc"}, {"kind": "checkpoint", "monitor": "train_loss", "mode": "max"}]"#),
        ("optimizer", #"{"kind": "adam", "lr": 0.001, "amsgrad": true}"#),
        ("optimizer", #"{"kind": "adamw", "amsgrad": false}"#),
        ("gradient_clip", #"{"value": 0.1}"#),
        ("gradient_clip", #"{"max_norm": 5, "value": 1}"#),
    ])
    func goodOptionsAreAcceptedByBoth(path: String, value: String) throws {
        let (schema, core) = try check(path, value)
        #expect(schema.isEmpty, "schema: \(schema)")
        #expect(core.isEmpty, "core: \(core)")
    }

    @Test(arguments: [
        ("callbacks", #"[{"kind": "lr_schedule", "schedule": "triangular"}]"#, "$.callbacks[0].schedule"),
        ("callbacks", #"[{"kind": "lr_schedule", "schedule": "sgdr", "cycle_mult": 0}]"#, "$.callbacks[0].cycle_mult"),
        ("callbacks", #"[{"kind": "lr_schedule", "schedule": "sgdr", "cycle_mult": 0.5}]"#, "$.callbacks[0].cycle_mult"),
        ("callbacks", #"[{"kind": "lr_schedule", "schedule": "cosine", "eta_min": -0.1}]"#, "$.callbacks[0].eta_min"),
        ("callbacks", #"[{"kind": "lr_schedule", "schedule": "one_cycle", "pct_start": 1}]"#, "$.callbacks[0].pct_start"),
        ("callbacks", #"[{"kind": "lr_schedule", "schedule": "one_cycle", "moms": [0.9, 0.8]}]"#, "$.callbacks[0].moms"),
        ("callbacks", #"[{"kind": "lr_schedule", "schedule": "warmup", "warmup_epochs": 0}]"#, "$.callbacks[0].warmup_epochs"),
        ("callbacks", #"[{"kind": "lr_schedule", "schedule": "cosine", "snapshots": true}]"#, "$.callbacks[0].snapshots"),
        ("callbacks", #"[{"kind": "checkpoint", "monitor": "val_loss"}]"#, "$.callbacks[0].monitor"),
        ("callbacks", #"[{"kind": "checkpoint", "monitor": "test_loss", "mode": "lowest"}]"#, "$.callbacks[0].mode"),
        ("optimizer", #"{"kind": "adam", "lr": -0.001}"#, "$.optimizer.lr"),
        ("optimizer", #"{"kind": "adam", "amsgrad": 1}"#, "$.optimizer.amsgrad"),
        ("gradient_clip", #"{"max_norm": -1}"#, "$.gradient_clip.max_norm"),
        ("gradient_clip", #"{"value": 0}"#, "$.gradient_clip.value"),
    ])
    func badValuesAreRefusedAtTheirPathByBoth(path: String, value: String, at errorPath: String) throws {
        let (schema, core) = try check(path, value)
        #expect(schema.contains { $0.hasPrefix(errorPath) }, "schema: \(schema)")
        #expect(core.contains { $0.hasPrefix(errorPath + ":") }, "core: \(core)")
    }
}
