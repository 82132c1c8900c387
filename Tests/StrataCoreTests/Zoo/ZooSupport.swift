import Foundation
import Testing
@testable import StrataCore

/// Builds the vision plugin's zoo models from recipe model objects, for the zoo's tests.
enum Zoo {
    /// One registry with the built vision plugin, shared by the zoo's suites.
    nonisolated(unsafe) static var cached: ComponentRegistry?
    static func registry() throws -> ComponentRegistry {
        if let cached { return cached }
        let registry = ComponentRegistry.withPlugins(searchPath: [try SwiftPluginTests.pluginFolder().path])
        #expect(registry.pluginDiscovery.refusals.isEmpty, "\(registry.pluginDiscovery.refusals)")
        cached = registry
        return registry
    }

    /// The model `json` describes, for examples of `exampleShape` ([C, H, W]) in batches of up to `batch`.
    /// `weights` .zeros skips drawing random weights (sizes only: the full-size networks hold 10⁸ of them).
    static func model(_ json: JSONValue, exampleShape: [Int], batch: Int, seed: UInt64 = 1, weights: InitScheme? = nil) throws -> Model {
        let registry = try registry()
        let diagnostics = Diagnostics()
        let spec = ModelBuilder(registry: registry, diagnostics: diagnostics).layer(json, path: "$.model")
        guard diagnostics.isEmpty, let spec else { throw CoreError.badInput("\(json): \(diagnostics.errors)") }
        let tree = try LayerSpec.buildTree(spec, registry: registry, file: "test")
        var context = BuildContext(seed: seed)
        if let weights { context.defaultInit = weights }
        return try Model(root: tree.root, exampleShape: exampleShape, maxBatch: batch, context: &context, jsonPaths: tree.jsonPaths)
    }

    /// Norm-wise relative error: max |a − e| / max |e|.
    static func relativeError(_ actual: [Float], _ expected: [Float]) -> Double {
        guard actual.count == expected.count, !expected.isEmpty else { return .infinity }
        var diff = 0.0, scale = 0.0
        for (a, e) in zip(actual, expected) {
            let d = abs(Double(a) - Double(e))
            diff = d.isNaN ? .infinity : max(diff, d)
            scale = max(scale, abs(Double(e)))
        }
        return diff / max(scale, 1e-30)
    }

    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/zoo")
    }
}
