import Foundation
import Testing
@testable import StrataCore

/// The c-layers sources built against copies of the headers that claim another ABI version.
@Suite("Plugins built against other ABI versions", .serialized)
struct ABIVersionTests {
    /// The ABI 0.1 headers as published (Fixtures/abi-0.1/include), for plugins of older minors.
    static var headers01: URL { RecipeFixtures.repositoryRoot.appendingPathComponent("Tests/StrataCoreTests/Fixtures/abi-0.1/include") }

    /// A copy of `base` (by default the current include/) whose strata.h says ABI
    /// `major`.`minor` (STRATA_ABI_MAJOR, STRATA_ABI_MINOR and STRATA_ABI_VERSION changed
    /// together, so the header's own check holds).
    static func headers(major: Int, minor: Int, base: URL? = nil) throws -> URL {
        let source = base ?? RecipeFixtures.repositoryRoot.appendingPathComponent("include")
        let root = RecipeFixtures.temporaryDirectory("headers")
        let include = root.appendingPathComponent("include")
        try FileManager.default.copyItem(at: source, to: include)
        let header = include.appendingPathComponent("strata/strata.h")
        var text = try String(contentsOf: header, encoding: .utf8)
        let from = base == nil ? (PluginHost.abiMajor, PluginHost.abiMinor) : (0, 1)
        for (old, new) in [("#define STRATA_ABI_MAJOR \(from.0)", "#define STRATA_ABI_MAJOR \(major)"),
                           ("#define STRATA_ABI_MINOR \(from.1)", "#define STRATA_ABI_MINOR \(minor)"),
                           ("#define STRATA_ABI_VERSION 0x\(String(format: "%08x", (from.0 << 16) | from.1))u", "#define STRATA_ABI_VERSION 0x\(String(format: "%08x", (major << 16) | minor))u")] {
            #expect(text.contains(old), "strata.h has no line \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        try Data(text.utf8).write(to: header)
        return include
    }

    /// Builds Plugins/c-layers (or another C plugin folder) with `include` as the ABI headers;
    /// returns the library.
    static func buildCLayers(include: URL, plugin: String = "c-layers", library: String = "libStrataCLayers.so") throws -> URL {
        guard let cc = PluginFixtures.cc else { throw CoreError.runtime("no C compiler") }
        let source = RecipeFixtures.repositoryRoot.appendingPathComponent("Plugins/\(plugin)")
        let files = try FileManager.default.contentsOfDirectory(atPath: source.path).filter { $0.hasSuffix(".c") }.sorted()
        let out = RecipeFixtures.temporaryDirectory("build").appendingPathComponent(library)
        let r = try runProgram(cc, ["-std=c99", "-O1", "-fPIC", "-shared", "-fvisibility=hidden", "-I", include.path, "-I", source.path]
                                   + files.map { source.appendingPathComponent($0).path } + ["-o", out.path, "-ljson-c", "-lm"])
        guard r.status == 0 else { throw CoreError.runtime("cc failed: \(r.output)") }
        return out
    }

    /// c-layers built against the published 0.1 headers (their shorter StrataComponent and ops
    /// tables), claiming minor 0, 1 or 2, loads on this host and computes.
    @Test(.enabled(if: PluginFixtures.cc != nil, "needs a C compiler to build test plugins"), arguments: [0, 1, 2])
    func anOlderMinorLoadsAndRuns(_ minor: Int) throws {
        let library = try Self.buildCLayers(include: try Self.headers(major: 0, minor: minor, base: Self.headers01))
        let folder = RecipeFixtures.temporaryDirectory("plugins")
        try PluginFixtures.makePlugin(in: folder, library: library) { $0["abi"] = ["major": 0, "minor": .number(Double(minor))] }
        let registry = ComponentRegistry.withPlugins(searchPath: [folder.path])
        #expect(registry.pluginDiscovery.refusals.isEmpty, "\(registry.pluginDiscovery.refusals)")
        let plugin = try PluginHost.load(try #require(registry.pluginDiscovery.manifests.first))
        #expect(plugin.abiVersion == UInt32(minor))
        let diagnostics = Diagnostics()
        let shape = [2, 3, 5]
        let x = Tensor(shape: shape), y = Tensor(shape: shape)
        for i in 0..<x.count { x[i] = Float(i) - 15 }
        for (json, expected) in [(#"{"kind": "leaky_relu", "negative_slope": 0.5}"#, { (v: Float) in v > 0 ? v : 0.5 * v }),
                                 (#"{"kind": "scale_shift", "scale": 3, "shift": 1}"#, { (v: Float) in 3 * v + 1 })] {
            let layer = try #require(try PluginFixtures.layer(json, registry: registry, diagnostics: diagnostics), "\(diagnostics.errors)")
            var context = BuildContext(seed: 1)
            _ = try layer.build(inputShape: shape, context: &context)
            try layer.forward(input: x, output: y, training: false)
            #expect(y.array() == x.array().map(expected), "\(json)")
        }
        #expect(diagnostics.isEmpty, "\(diagnostics.errors)")
    }

    @Test(.enabled(if: PluginFixtures.cc != nil, "needs a C compiler to build test plugins"))
    func anotherMajorIsRefusedNamingThePlugin() throws {
        let library = try Self.buildCLayers(include: try Self.headers(major: 1, minor: 1))
        // A manifest that says so is refused before the library is opened.
        let honest = RecipeFixtures.temporaryDirectory("plugins")
        let honestPath = try PluginFixtures.makePlugin(in: honest, library: library) { $0["abi"] = ["major": 1, "minor": 1] }
        let found = PluginDiscovery.discover(searchPath: [honest.path])
        #expect(found.manifests.isEmpty)
        #expect(found.refusals.map(\.description) == ["plugin \(honestPath): built for Strata ABI 1.1; this host implements ABI 0.5 and refuses another major"], "\(found.refusals)")
        // A manifest that claims 0.1 gets the library opened, and its entry point refuses the host.
        let lying = RecipeFixtures.temporaryDirectory("plugins")
        let lyingPath = try PluginFixtures.makePlugin(in: lying, library: library)
        let registry = ComponentRegistry.withPlugins(searchPath: [lying.path])
        let diagnostics = Diagnostics()
        #expect(try PluginFixtures.layer(#"{"kind": "leaky_relu"}"#, registry: registry, diagnostics: diagnostics) == nil)
        let message = diagnostics.errors.map(\.description).joined(separator: "\n")
        #expect(message.contains(#"$.model: layer kind "leaky_relu" cannot be used: plugin \#(lyingPath): library "#), "\(message)")
        #expect(message.contains("strata_plugin_entry failed with status 6 (ABI mismatch; this host implements ABI 0.5): c-layers is built for Strata ABI 1.1, the host implements ABI 0.5"), "\(message)")
    }

    /// A plugin whose entry uses strata_check_host_abi refuses another major with the helper's sentence.
    @Test(.enabled(if: PluginFixtures.cc != nil, "needs a C compiler to build test plugins"))
    func theHeaderHelperRefusesAnotherMajor() throws {
        let library = try Self.buildCLayers(include: try Self.headers(major: 2, minor: 0), plugin: "c-optimizers", library: "libStrataCOptimizers.so")
        let folder = RecipeFixtures.temporaryDirectory("plugins")
        let dir = folder.appendingPathComponent("c-optimizers")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: library, to: dir.appendingPathComponent(library.lastPathComponent))
        guard case var .object(manifest) = try JSONParser.parse([UInt8](try Data(contentsOf: RecipeFixtures.repositoryRoot
            .appendingPathComponent("Plugins/c-optimizers/plugin.json")))) else { throw CoreError.runtime("manifest") }
        manifest["library"] = .string(library.lastPathComponent)
        manifest["sha256"] = .string(try PluginHost.sha256(file: dir.appendingPathComponent(library.lastPathComponent).path))
        try Data(JSONValue.object(manifest).serialized(pretty: true).utf8).write(to: dir.appendingPathComponent("plugin.json"))
        let found = PluginDiscovery.discover(searchPath: [folder.path])
        let m = try #require(found.manifests.first)
        do {
            _ = try PluginHost.load(m)
            Issue.record("a plugin of ABI 2.0 was loaded")
        } catch {
            #expect(error.reason.contains("strata_plugin_entry failed with status 6 (ABI mismatch; this host implements ABI 0.5): c-optimizers is built for Strata ABI 2.0, the host implements ABI 0.5"), "\(error)")
        }
    }
}
