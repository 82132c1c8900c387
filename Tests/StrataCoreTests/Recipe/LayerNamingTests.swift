import Foundation
import Testing
@testable import StrataCore

/// Parameter names in recipe graphs: a layer named "" adds no name level, a residual names its
/// two children (`body_name`, `shortcut_name`), and names that would collide are refused.
@Suite("Layer naming")
struct LayerNamingTests {
    func build(_ json: JSONValue) throws -> Model {
        let registry = ComponentRegistry.builtIn()
        let diagnostics = Diagnostics()
        let spec = ModelBuilder(registry: registry, diagnostics: diagnostics).layer(json, path: "$.model")
        guard diagnostics.isEmpty, let spec else { throw CoreError.badInput("\(diagnostics.errors)") }
        let tree = try LayerSpec.buildTree(spec, registry: registry, file: "test")
        var context = BuildContext(seed: 1)
        return try Model(root: tree.root, exampleShape: [2, 4, 4], maxBatch: 2, context: &context, jsonPaths: tree.jsonPaths)
    }

    func diagnostics(_ json: JSONValue) -> [String] {
        let diagnostics = Diagnostics()
        _ = ModelBuilder(registry: ComponentRegistry.builtIn(), diagnostics: diagnostics).layer(json, path: "$.model")
        return diagnostics.errors.map { "\($0)" }
    }

    static let conv: JSONValue = ["kind": "conv2d", "name": "conv1", "out_channels": 3, "kernel_size": 1, "bias": false]

    @Test func aTorchvisionStyleBlockReadsAsTorchvisionNamesIt() throws {
        let block: JSONValue = ["kind": "sequential", "name": "layer1", "layers": [
            ["kind": "sequential", "name": "0", "layers": [
                ["kind": "residual", "name": "", "body_name": "", "shortcut_name": "downsample",
                 "body": ["kind": "sequential", "layers": [Self.conv, ["kind": "batchnorm2d", "name": "bn1"]]],
                 "shortcut": ["kind": "sequential", "layers": [["kind": "conv2d", "out_channels": 3, "kernel_size": 1, "bias": false]]]],
                ["kind": "relu", "name": "relu"],
            ]],
        ]]
        let model = try build(["kind": "sequential", "layers": [block]])
        #expect(model.namedParameters.map(\.name) == ["layer1.0.conv1.weight", "layer1.0.bn1.weight", "layer1.0.bn1.bias",
                                                      "layer1.0.bn1.running_mean", "layer1.0.bn1.running_var", "layer1.0.downsample.0.weight"])
        // The shapes of the summary are keyed the same way.
        #expect(model.layerShapes["layer1.0.conv1"] == [2, 3, 4, 4])
    }

    @Test func residualChildrenKeepTheirDefaultNames() throws {
        let model = try build(["kind": "residual", "body": Self.conv, "shortcut": ["kind": "conv2d", "out_channels": 3, "kernel_size": 1]])
        #expect(model.namedParameters.map(\.name) == ["body.weight", "shortcut.weight", "shortcut.bias"])
    }

    @Test func collidingNamesAreRefused() throws {
        // Two unnamed-level siblings that both hold a conv1.
        let twice: JSONValue = ["kind": "sequential", "layers": [
            ["kind": "sequential", "name": "", "layers": [Self.conv]],
            ["kind": "sequential", "name": "", "layers": [Self.conv]],
        ]]
        #expect(throws: CoreError.self) { try build(twice) }
        do { _ = try build(twice) } catch { #expect("\(error)".contains("conv1.weight"), "\(error)") }
        #expect(diagnostics(["kind": "residual", "body": Self.conv, "body_name": "a.b"]).contains { $0.contains("body_name") })
        #expect(diagnostics(["kind": "residual", "body": Self.conv, "body_name": "x", "shortcut_name": "x"]).contains { $0.contains("shortcut_name") })
        #expect(diagnostics(["kind": "sequential", "layers": [["kind": "relu", "name": "a"], ["kind": "relu", "name": "a"]]]).contains { $0.contains("duplicate") })
    }
}
