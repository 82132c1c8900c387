import Foundation
import Testing
@testable import StrataCore

/// A plugin in C for the tests that need a library other than c-layers: a layer `fail_forward`
/// whose forward always fails, with an ops table as short as an older minor's would be (it ends
/// after `backward`). `ENTRY` selects the entry point: absent, refusing the ABI, or normal.
func testPluginSource(entry: String) -> String {
    """
    #include <stddef.h>
    #include <strata/strata.h>
    static const StrataHostAPI *host;
    static StrataStatus create(const char *c, const void *o, void **i, StrataError *e) { (void)c; (void)o; (void)e; *i = NULL; return STRATA_OK; }
    static void destroy(void *i) { (void)i; }
    static StrataStatus infer(void *i, int32_t n, const int64_t *in, int32_t *on, int64_t *out, StrataError *e) {
        int32_t k; (void)i; (void)e; *on = n; for (k = 0; k < n; k++) out[k] = in[k]; return STRATA_OK;
    }
    static StrataStatus fwd(void *i, const StrataTensor *x, StrataTensor *y, int32_t t, StrataError *e) {
        (void)i; (void)x; (void)y; (void)t;
        return host->set_error(e, STRATA_ERR_UNSUPPORTED, "this layer always fails");
    }
    static StrataStatus bwd(void *i, const StrataTensor *x, const StrataTensor *y, const StrataTensor *dy, StrataTensor *dx, StrataError *e) {
        (void)i; (void)x; (void)y; (void)dy; (void)dx; (void)e; return STRATA_OK;
    }
    static const StrataLayerOps ops = {
        (uint32_t)offsetof(StrataLayerOps, workspace_size), STRATA_ABI_VERSION,
        create, destroy, infer, NULL, NULL, NULL, fwd, bwd, NULL, NULL };
    static const StrataComponent components[] = {
        { STRATA_STRUCT_HEADER(StrataComponent), STRATA_COMPONENT_LAYER, 0, "fail_forward", NULL, &ops, NULL } };
    \(entry)
    """
}

let normalEntry = """
STRATA_EXPORT StrataStatus strata_plugin_entry(const StrataHostAPI *h, StrataPluginInfo *out, StrataError *err) {
    (void)err; host = h;
    out->abi_version = STRATA_ABI_VERSION; out->plugin_name = "failing"; out->plugin_version = "1.0.0";
    out->component_count = 1; out->components = components; return STRATA_OK;
}
"""

private let refusingEntry = """
STRATA_EXPORT StrataStatus strata_plugin_entry(const StrataHostAPI *h, StrataPluginInfo *out, StrataError *err) {
    (void)out; host = h; (void)components;
    return h->set_error(err, STRATA_ERR_ABI_MISMATCH, "built for Strata ABI major 7");
}
"""

private let noEntry = """
STRATA_EXPORT int something_else(void) { (void)components; (void)host; return 0; }
"""

func failingManifest(_ m: inout JSONObject) {
    m["name"] = "failing"
    m["version"] = "1.0.0"
    m["components"] = [["kind": "layer", "name": "fail_forward", "description": "always fails"]]
}

@Suite("Plugin refusals and lazy loading")
struct PluginRefusalTests {
    func search() -> URL { RecipeFixtures.temporaryDirectory("plugins") }

    /// The one refusal of a discovery over `folder`, which must name `manifest`.
    func onlyRefusal(_ folder: URL, manifest: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> PluginRefusal {
        let found = PluginDiscovery.discover(searchPath: [folder.path])
        #expect(found.manifests.isEmpty, sourceLocation: sourceLocation)
        let refusal = try #require(found.refusals.count == 1 ? found.refusals[0] : nil, "\(found.refusals)", sourceLocation: sourceLocation)
        #expect(refusal.manifest == manifest, sourceLocation: sourceLocation)
        #expect(refusal.description.contains(manifest), sourceLocation: sourceLocation)
        return refusal
    }

    /// Discovers one manifest in `folder` and loads it; returns the refusal.
    func loadRefusal(_ folder: URL, sourceLocation: SourceLocation = #_sourceLocation) throws -> PluginRefusal {
        let found = PluginDiscovery.discover(searchPath: [folder.path])
        let manifest = try #require(found.manifests.first, "\(found.refusals)", sourceLocation: sourceLocation)
        do {
            _ = try PluginHost.load(manifest)
        } catch {
            #expect(error.description.contains(manifest.path), sourceLocation: sourceLocation)
            return error
        }
        Issue.record("the plugin loaded", sourceLocation: sourceLocation)
        return PluginRefusal(manifest: "", reason: "")
    }

    @Test func malformedJSON() throws {
        let folder = search()
        let path = try PluginFixtures.writeManifest(#"{"name": "x", "version": "1",}"#, in: folder, folder: "bad")
        let r = try onlyRefusal(folder, manifest: path)
        #expect(r.reason.hasPrefix("malformed JSON: line 1, column 30: trailing comma"), "\(r)")
    }

    @Test func missingFieldsAreNamedByJSONPath() throws {
        let folder = search()
        let path = try PluginFixtures.makePlugin(in: folder) { m in
            m.removeValue(forKey: "version")
            m["components"] = [["kind": "layer", "name": "x y", "description": "d", "parameters": ["p": ["type": "float"]]]]
        }
        let r = try onlyRefusal(folder, manifest: path)
        #expect(r.reason.contains("$.version: is required"), "\(r)")
        #expect(r.reason.contains("$.components[0].name: must be ASCII letters"), "\(r)")
        #expect(r.reason.contains("$.components[0].parameters.p.type"), "\(r)")
        #expect(r.reason.contains("$.components[0].parameters.p.description: is required"), "\(r)")
    }

    @Test func missingLibrary() throws {
        let folder = search()
        let path = try PluginFixtures.makePlugin(in: folder) { $0["library"] = "libAbsent.so" }
        let r = try onlyRefusal(folder, manifest: path)
        #expect(r.library?.hasSuffix("c-layers/libAbsent.so") == true && r.reason == "the library file does not exist", "\(r)")
    }

    @Test func sourceManifestWithoutChecksum() throws {
        let folder = search()
        let path = try PluginFixtures.makePlugin(in: folder) { $0["sha256"] = .null }
        let r = try onlyRefusal(folder, manifest: path)
        #expect(r.reason.contains("has no sha256"), "\(r)")
    }

    @Test func abiMajorMismatchInTheManifest() throws {
        let folder = search()
        let path = try PluginFixtures.makePlugin(in: folder) { $0["abi"] = ["major": 1, "minor": 0] }
        let r = try onlyRefusal(folder, manifest: path)
        #expect(r.reason.contains("built for Strata ABI 1.0; this host implements ABI 0.5"), "\(r)")
    }

    @Test func checksumMismatchNamesBothDigests() throws {
        let folder = search()
        let wrong = String(repeating: "ab", count: 32)
        try PluginFixtures.makePlugin(in: folder) { $0["sha256"] = .string(wrong) }
        let r = try loadRefusal(folder)
        let actual = try PluginHost.sha256(file: PluginFixtures.cLayersLibrary.path)
        #expect(r.reason.contains("checksum mismatch") && r.reason.contains(wrong) && r.reason.contains(actual), "\(r)")
        #expect(r.library?.hasSuffix("libStrataCLayers.so") == true)
    }

    @Test func manifestThatDiffersFromWhatWasRegistered() throws {
        let folder = search()
        try PluginFixtures.makePlugin(in: folder) { m in
            m["components"] = [["kind": "layer", "name": "leaky_relu", "description": "d"], ["kind": "loss", "name": "c_nll", "description": "d"]]
        }
        let r = try loadRefusal(folder)
        #expect(r.reason.contains(#"declared in the manifest but not registered: loss "c_nll""#), "\(r)")
        #expect(r.reason.contains(#"registered but not declared in the manifest: layer "scale""#), "\(r)")
    }

    @Test func pluginNameMustMatch() throws {
        let folder = search()
        try PluginFixtures.makePlugin(in: folder) { $0["name"] = "other" }
        let r = try loadRefusal(folder)
        #expect(r.reason.contains(#"reports plugin name "c-layers", the manifest says "other""#), "\(r)")
    }

    @Test func duplicateComponents() throws {
        // Within one manifest.
        let one = search()
        let path = try PluginFixtures.makePlugin(in: one) { m in
            m["components"] = [["kind": "layer", "name": "scale", "description": "d"], ["kind": "layer", "name": "scale", "description": "d"]]
        }
        #expect(try onlyRefusal(one, manifest: path).reason.contains(#"layer "scale" is declared twice"#))
        // Against a built-in.
        let builtin = search()
        let clash = try PluginFixtures.makePlugin(in: builtin) { m in
            m["components"] = [["kind": "layer", "name": "relu", "description": "d"]]
        }
        let registry = ComponentRegistry.withPlugins(searchPath: [builtin.path])
        #expect(registry.pluginDiscovery.refusals.map(\.description) == ["plugin \(clash): layer \"relu\" is already provided by built-in"])
        #expect(registry.layers["relu"]?.origin == "built-in")
        // Between two plugins: the first on the search path wins, the second is refused naming the first.
        let a = search(), b = search()
        let first = try PluginFixtures.makePlugin(in: a)
        let second = try PluginFixtures.makePlugin(in: b) { $0["name"] = "c-layers-copy" }
        let both = ComponentRegistry.withPlugins(searchPath: [a.path, b.path])
        #expect(both.pluginDiscovery.manifests.map(\.path) == [first])
        let refusal = try #require(both.pluginDiscovery.refusals.first)
        #expect(refusal.manifest == second && refusal.reason.contains(#"layer "leaky_relu" is already provided by plugin c-layers (\#(first))"#), "\(refusal)")
        #expect(both.layers["leaky_relu"]?.origin == "plugin c-layers (\(first))")
    }

    @Test(.enabled(if: PluginFixtures.cc != nil, "needs a C compiler to build test plugins"))
    func missingEntrySymbol() throws {
        let folder = search()
        let library = try PluginFixtures.compile(testPluginSource(entry: noEntry), name: "noentry", in: RecipeFixtures.temporaryDirectory())
        try PluginFixtures.makePlugin(in: folder, library: library, edit: failingManifest)
        let r = try loadRefusal(folder)
        #expect(r.reason.contains("exports no strata_plugin_entry"), "\(r)")
    }

    @Test(.enabled(if: PluginFixtures.cc != nil, "needs a C compiler to build test plugins"))
    func entryThatRefusesTheHostABI() throws {
        let folder = search()
        let library = try PluginFixtures.compile(testPluginSource(entry: refusingEntry), name: "refusing", in: RecipeFixtures.temporaryDirectory())
        try PluginFixtures.makePlugin(in: folder, library: library, edit: failingManifest)
        let r = try loadRefusal(folder)
        #expect(r.reason.contains("ABI mismatch") && r.reason.contains("built for Strata ABI major 7"), "\(r)")
    }

    @Test(.enabled(if: PluginFixtures.cc != nil, "needs a C compiler to build test plugins"))
    func olderMinorTableLoadsAndAFailingForwardStopsWithItsMessage() throws {
        let folder = search()
        let library = try PluginFixtures.compile(testPluginSource(entry: normalEntry), name: "failing", in: RecipeFixtures.temporaryDirectory())
        try PluginFixtures.makePlugin(in: folder, library: library, edit: failingManifest)
        let registry = ComponentRegistry.withPlugins(searchPath: [folder.path])
        let recipe = RecipeFixtures.write("""
        {"epochs": 1, "batch_size": 4, "optimizer": {"kind": "sgd", "lr": 0.1},
         "model": {"kind": "sequential", "layers": [{"kind": "flatten"}, {"kind": "fail_forward"}, {"kind": "linear", "out_features": 10}]}}
        """)
        let experiment = try Experiment(recipe: try Recipe.load(file: recipe, registry: registry), registry: registry, file: recipe)
        do {
            try experiment.model.forward(Tensor(shape: [4, 1, 28, 28]), training: true)
            Issue.record("forward succeeded")
        } catch let error as CoreError {
            #expect(error.exitStatus == 1)
            #expect(error.description == #"plugin failing, layer "fail_forward" at $.model.layers[1]: forward failed (unsupported): this layer always fails"#)
        }
    }

    @Test func brokenPluginsDoNotMatterUntilARecipeUsesThem() throws {
        let folder = search()
        // A "library" that is not one, with a matching checksum: opening it would fail.
        let junk = RecipeFixtures.temporaryDirectory().appendingPathComponent("libJunk.so")
        try Data("not an ELF file".utf8).write(to: junk)
        let junkManifest = try PluginFixtures.makePlugin(in: folder, folder: "junk", library: junk) { m in
            m["name"] = "junk"
            m["components"] = [["kind": "layer", "name": "junk_layer", "description": "d"]]
        }
        let good = try PluginFixtures.makePlugin(in: folder)
        let registry = ComponentRegistry.withPlugins(searchPath: [folder.path])
        #expect(registry.pluginDiscovery.refusals.isEmpty)
        #expect(registry.layers["junk_layer"] != nil && registry.layers["leaky_relu"] != nil)
        #expect(!PluginHost.hasAttempted(junkManifest) && !PluginHost.hasAttempted(good))
        // A recipe using only built-ins opens nothing.
        let builtins = try Recipe.load(file: RecipeFixtures.write(RecipeFixtures.smallCNN), registry: registry)
        _ = try Experiment(recipe: builtins, registry: registry)
        #expect(!PluginHost.hasAttempted(junkManifest) && !PluginHost.hasAttempted(good))
        // A recipe using leaky_relu opens c-layers only.
        let leaky = RecipeFixtures.write("""
        {"epochs": 1, "optimizer": {"kind": "sgd", "lr": 0.1},
         "model": {"kind": "sequential", "layers": [{"kind": "flatten"}, {"kind": "leaky_relu"}, {"kind": "linear", "out_features": 10}]}}
        """)
        _ = try Experiment(recipe: try Recipe.load(file: leaky, registry: registry), registry: registry)
        #expect(PluginHost.hasAttempted(good) && !PluginHost.hasAttempted(junkManifest))
        // A recipe using the broken plugin is refused with the reason, at the layer's path.
        let bad = RecipeFixtures.write("""
        {"epochs": 1, "optimizer": {"kind": "sgd", "lr": 0.1},
         "model": {"kind": "sequential", "layers": [{"kind": "flatten"}, {"kind": "junk_layer"}]}}
        """)
        do {
            _ = try Recipe.load(file: bad, registry: registry)
            Issue.record("the recipe loaded")
        } catch let error as RecipeValidationError {
            let text = error.description
            #expect(text.contains("$.model.layers[1]: layer kind \"junk_layer\" cannot be used: plugin \(junkManifest): library "), "\(text)")
            #expect(text.contains("junk/libJunk.so: dlopen failed"), "\(text)")
        }
    }
}
