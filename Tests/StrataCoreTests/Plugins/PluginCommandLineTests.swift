import Foundation
import Testing
@testable import StrataCore

/// `strata plugins` and plugin failures as users see them, through the built executable.
@Suite("strata plugins")
struct PluginCommandLineTests {
    func strata(_ arguments: [String], pluginPath: String) throws -> (status: Int32, out: String, err: String) {
        try runStrata(arguments, environment: ["STRATA_PLUGIN_PATH": pluginPath])
    }

    @Test func listsPluginsAndEveryRefusalAsTextAndJSON() throws {
        let folder = RecipeFixtures.temporaryDirectory("plugins")
        let good = try PluginFixtures.makePlugin(in: folder, folder: "renamed") { m in
            m["name"] = "renamed"
            m["components"] = [["kind": "layer", "name": "leaky_relu", "description": "d"], ["kind": "layer", "name": "scale", "description": "d"]]
        }
        let bad = try PluginFixtures.writeManifest("{", in: folder, folder: "broken")
        let wrongSum = try PluginFixtures.makePlugin(in: folder, folder: "stale") { m in
            m["name"] = "stale"
            m["sha256"] = .string(String(repeating: "0", count: 64))
            m["components"] = [["kind": "layer", "name": "stale_layer", "description": "d"]]
        }
        let r = try strata(["plugins", "--json"], pluginPath: folder.path)
        #expect(r.status == 0, "\(r.err)")
        let json = try JSONParser.parse(r.out)
        #expect(json["search_path"]?[0] == .string(folder.path))
        let refusals = try #require(json["refusals"]?.arrayValue)
        let byManifest = Dictionary(refusals.compactMap { v in v["manifest"]?.stringValue.map { ($0, v["reason"]?.stringValue ?? "") } },
                                    uniquingKeysWith: { a, _ in a })
        #expect(byManifest[bad]?.hasPrefix("malformed JSON") == true, "\(refusals)")
        #expect(byManifest[wrongSum]?.contains("checksum mismatch") == true, "\(refusals)")
        // "renamed" registers under the name c-layers, so it is refused after loading.
        #expect(byManifest[good]?.contains(#"reports plugin name "c-layers", the manifest says "renamed""#) == true, "\(refusals)")
        let text = try strata(["plugins"], pluginPath: folder.path)
        #expect(text.status == 0)
        #expect(text.out.contains("search path:\n  \(folder.path) (STRATA_PLUGIN_PATH)"), "\(text.out)")
        #expect(text.out.contains("refused:\n") && text.out.contains("plugin \(bad): malformed JSON"), "\(text.out)")
    }

    @Test(.enabled(if: PluginFixtures.cc != nil && RecipeFixtures.hasFashionMNIST, "needs a C compiler and Debian's dataset-fashion-mnist"))
    func aComponentFailingDuringARunStopsItWithExitStatusOne() throws {
        let folder = RecipeFixtures.temporaryDirectory("plugins")
        let library = try PluginFixtures.compile(testPluginSource(entry: normalEntry), name: "failing", in: RecipeFixtures.temporaryDirectory())
        try PluginFixtures.makePlugin(in: folder, folder: "failing", library: library, edit: failingManifest)
        let recipe = RecipeFixtures.write("""
        {"epochs": 1, "batch_size": 32, "data": {"train_limit": 64, "test_limit": 32}, "optimizer": {"kind": "sgd", "lr": 0.1},
         "model": {"kind": "sequential", "layers": [{"kind": "flatten"}, {"kind": "fail_forward"}, {"kind": "linear", "out_features": 10}]}}
        """)
        let r = try strata(["run", recipe, "--out", RecipeFixtures.temporaryDirectory("run").path], pluginPath: folder.path)
        #expect(r.status == 1, "\(r.err)")
        #expect(r.err.contains(#"strata: plugin failing, layer "fail_forward" at $.model.layers[1]: forward failed (unsupported): this layer always fails"#), "\(r.err)")
    }

    @Test func aRecipeUsingARefusedPluginExitsTwoNamingTheManifest() throws {
        let folder = RecipeFixtures.temporaryDirectory("plugins")
        let stale = try PluginFixtures.makePlugin(in: folder, folder: "stale") { m in
            m["name"] = "stale"
            m["sha256"] = .string(String(repeating: "0", count: 64))
            m["components"] = [["kind": "layer", "name": "stale_layer", "description": "d"]]
        }
        let recipe = RecipeFixtures.write("""
        {"epochs": 1, "optimizer": {"kind": "sgd", "lr": 0.1},
         "model": {"kind": "sequential", "layers": [{"kind": "flatten"}, {"kind": "stale_layer"}, {"kind": "linear", "out_features": 10}]}}
        """)
        let r = try strata(["summary", recipe], pluginPath: folder.path)
        #expect(r.status == 2)
        #expect(r.err.contains("$.model.layers[1]: layer kind \"stale_layer\" cannot be used: plugin \(stale): library "), "\(r.err)")
        #expect(r.err.contains("checksum mismatch"), "\(r.err)")
    }
}
