import Foundation
import Testing
@testable import StrataCore

/// The c-layers sources built against copies of the headers that claim another ABI version.
@Suite("Plugins built against other ABI versions", .serialized)
struct ABIVersionTests {
    /// A copy of include/ whose strata.h says ABI `major`.`minor` (STRATA_ABI_MAJOR,
    /// STRATA_ABI_MINOR and STRATA_ABI_VERSION changed together, so the header's own check holds).
    static func headers(major: Int, minor: Int) throws -> URL {
        let root = RecipeFixtures.temporaryDirectory("headers")
        let include = root.appendingPathComponent("include")
        try FileManager.default.copyItem(at: RecipeFixtures.repositoryRoot.appendingPathComponent("include"), to: include)
        let header = include.appendingPathComponent("strata/strata.h")
        var text = try String(contentsOf: header, encoding: .utf8)
        for (old, new) in [("#define STRATA_ABI_MAJOR 0", "#define STRATA_ABI_MAJOR \(major)"),
                           ("#define STRATA_ABI_MINOR 1", "#define STRATA_ABI_MINOR \(minor)"),
                           ("#define STRATA_ABI_VERSION 0x00000001u", "#define STRATA_ABI_VERSION 0x\(String(format: "%08x", (major << 16) | minor))u")] {
            #expect(text.contains(old), "strata.h has no line \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        try Data(text.utf8).write(to: header)
        return include
    }

    /// Builds Plugins/c-layers with `include` as the ABI headers; returns the library.
    static func buildCLayers(include: URL) throws -> URL {
        guard let cc = PluginFixtures.cc else { throw StrataError.runtime("no C compiler") }
        let source = RecipeFixtures.repositoryRoot.appendingPathComponent("Plugins/c-layers")
        let files = try FileManager.default.contentsOfDirectory(atPath: source.path).filter { $0.hasSuffix(".c") }.sorted()
        let out = RecipeFixtures.temporaryDirectory("build").appendingPathComponent("libStrataCLayers.so")
        let r = try runProgram(cc, ["-std=c99", "-O1", "-fPIC", "-shared", "-fvisibility=hidden", "-I", include.path, "-I", source.path]
                                   + files.map { source.appendingPathComponent($0).path } + ["-o", out.path, "-ljson-c", "-lm"])
        guard r.status == 0 else { throw StrataError.runtime("cc failed: \(r.output)") }
        return out
    }

    @Test(.enabled(if: PluginFixtures.cc != nil, "needs a C compiler to build test plugins"))
    func anOlderMinorLoadsAndRuns() throws {
        let library = try Self.buildCLayers(include: try Self.headers(major: 0, minor: 0))
        let folder = RecipeFixtures.temporaryDirectory("plugins")
        try PluginFixtures.makePlugin(in: folder, library: library) { $0["abi"] = ["major": 0, "minor": 0] }
        let registry = ComponentRegistry.withPlugins(searchPath: [folder.path])
        #expect(registry.pluginDiscovery.refusals.isEmpty, "\(registry.pluginDiscovery.refusals)")
        let plugin = try PluginHost.load(try #require(registry.pluginDiscovery.manifests.first))
        #expect(plugin.abiVersion == 0)
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
        #expect(found.refusals.map(\.description) == ["plugin \(honestPath): built for Strata ABI 1.1; this host implements ABI 0.1 and refuses another major"], "\(found.refusals)")
        // A manifest that claims 0.1 gets the library opened, and its entry point refuses the host.
        let lying = RecipeFixtures.temporaryDirectory("plugins")
        let lyingPath = try PluginFixtures.makePlugin(in: lying, library: library)
        let registry = ComponentRegistry.withPlugins(searchPath: [lying.path])
        let diagnostics = Diagnostics()
        #expect(try PluginFixtures.layer(#"{"kind": "leaky_relu"}"#, registry: registry, diagnostics: diagnostics) == nil)
        let message = diagnostics.errors.map(\.description).joined(separator: "\n")
        #expect(message.contains(#"$.model: layer kind "leaky_relu" cannot be used: plugin \#(lyingPath): library "#), "\(message)")
        #expect(message.contains("strata_plugin_entry failed with status 6 (ABI mismatch; this host implements ABI 0.1): c-layers is built for Strata ABI 1.1, the host implements ABI 0.1"), "\(message)")
    }
}
