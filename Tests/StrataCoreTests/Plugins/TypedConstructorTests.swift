import Foundation
import Testing
@testable import StrataCore

/// Runs a program and returns its status and combined output.
func runProgram(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                environment extra: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let directory { p.currentDirectoryURL = directory }
    var environment = ProcessInfo.processInfo.environment
    for (k, v) in extra { environment[k] = v }
    p.environment = environment
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A test plugin whose typed constructor takes one argument of every type of the vocabulary and
/// whose forward writes them back: y[0..5] = a, b, c, d, e, strlen(s). The string "fail" makes
/// the constructor return NULL with a message.
private let probeSource = """
#include <string.h>
#include <stdlib.h>
#include <strata/strata.h>
static const StrataHostAPI *host;
typedef struct Probe { float v[6]; } Probe;
STRATA_EXPORT void *probe_new(int32_t a, int64_t b, float c, double d, int32_t e, const char *s, StrataError *err) {
    Probe *p;
    if (strcmp(s, "fail") == 0) { host->set_error(err, STRATA_ERR_INVALID_ARGUMENT, "s may not be \\"fail\\""); return NULL; }
    p = (Probe *)malloc(sizeof *p);
    p->v[0] = (float)a; p->v[1] = (float)b; p->v[2] = c; p->v[3] = (float)d; p->v[4] = (float)e; p->v[5] = (float)strlen(s);
    return p;
}
static StrataStatus create(const char *c, const void *o, void **i, StrataError *e) {
    (void)c; (void)o; *i = NULL; return host->set_error(e, STRATA_ERR_INTERNAL, "create must not be called");
}
static void destroy(void *i) { free(i); }
static StrataStatus infer(void *i, int32_t n, const int64_t *in, int32_t *on, int64_t *out, StrataError *e) {
    int32_t k; (void)i; (void)e; *on = n; for (k = 0; k < n; k++) out[k] = in[k]; return STRATA_OK;
}
static StrataStatus fwd(void *i, const StrataTensor *x, StrataTensor *y, int32_t t, StrataError *e) {
    int k; float *out = (float *)y->data; (void)x; (void)t; (void)e;
    for (k = 0; k < 6; k++) out[k] = ((Probe *)i)->v[k];
    return STRATA_OK;
}
static StrataStatus bwd(void *i, const StrataTensor *x, const StrataTensor *y, const StrataTensor *dy, StrataTensor *dx, StrataError *e) {
    (void)i; (void)x; (void)y; (void)dy; (void)dx; (void)e; return STRATA_OK;
}
static const StrataLayerOps ops = { STRATA_STRUCT_HEADER(StrataLayerOps), .create = create, .destroy = destroy,
    .infer_shape = infer, .forward = fwd, .backward = bwd };
static const StrataComponent components[] = {
    { STRATA_STRUCT_HEADER(StrataComponent), STRATA_COMPONENT_LAYER, 0, "probe", NULL, &ops, "probe_new" } };
STRATA_EXPORT StrataStatus strata_plugin_entry(const StrataHostAPI *h, StrataPluginInfo *out, StrataError *err) {
    (void)err; host = h;
    out->abi_version = STRATA_ABI_VERSION; out->plugin_name = "probe"; out->plugin_version = "1.0.0";
    out->component_count = 1; out->components = components; return STRATA_OK;
}
"""

private func probeManifest(_ m: inout JSONObject) {
    m["name"] = "probe"
    m["version"] = "1.0.0"
    let parameters: JSONValue = [
        "a": ["type": "integer", "default": -7, "description": "int32"],
        "b": ["type": "integer", "default": 3_000_000_000, "description": "int64"],
        "c": ["type": "number", "default": 0.25, "description": "float32"],
        "d": ["type": "number", "default": 1.5, "description": "float64"],
        "e": ["type": "boolean", "default": true, "description": "bool"],
        "s": ["type": "string", "default": "hello", "description": "string"],
    ]
    let arguments: JSONValue = [["name": "a", "type": "int32"], ["name": "b", "type": "int64"], ["name": "c", "type": "float32"],
                                ["name": "d", "type": "float64"], ["name": "e", "type": "bool"], ["name": "s", "type": "string"]]
    m["components"] = [["kind": "layer", "name": "probe", "description": "echoes its constructor's arguments",
                        "parameters": parameters, "ffi_constructor": ["symbol": "probe_new", "arguments": arguments]]]
}

@Suite("Typed constructors through libffi and the json-c configuration object")
struct TypedConstructorTests {
    func registry(edit: (inout JSONObject) -> Void = { _ in }) throws -> ComponentRegistry {
        let folder = RecipeFixtures.temporaryDirectory("plugins")
        try PluginFixtures.makePlugin(in: folder, edit: edit)
        let registry = ComponentRegistry.withPlugins(searchPath: [folder.path])
        #expect(registry.pluginDiscovery.refusals.isEmpty, "\(registry.pluginDiscovery.refusals)")
        return registry
    }

    /// Runs `layer` forward and backward on a fixed input; returns output and input gradient.
    func run(_ layer: any Layer) throws -> (y: [Float], dx: [Float]) {
        let shape = [2, 3, 4]
        var context = BuildContext(seed: 1)
        #expect(try layer.build(inputShape: shape, context: &context) == shape)
        let x = Tensor(shape: shape), dy = Tensor(shape: shape), y = Tensor(shape: shape), dx = Tensor(shape: shape)
        for i in 0..<x.count { x[i] = Float(i) - 10; dy[i] = Float(i % 5) }
        try layer.forward(input: x, output: y, training: true)
        try layer.backward(input: x, output: y, gradOutput: dy, gradInput: dx)
        return (y.array(), dx.array())
    }

    @Test func scaleShiftIsBuiltByItsTypedConstructor() throws {
        let registry = try registry()
        let diagnostics = Diagnostics()
        let layer = try #require(try PluginFixtures.layer(#"{"kind": "scale_shift", "scale": 2.5, "shift": -1}"#, registry: registry, diagnostics: diagnostics))
        let plugin = try PluginHost.load(try #require(registry.pluginDiscovery.manifests.first))
        #expect(plugin.constructor(.layer, "scale_shift")?.declaration.symbol == "c_layers_scale_shift_new")
        let (y, dx) = try run(layer)
        for i in 0..<y.count {
            #expect(y[i] == 2.5 * (Float(i) - 10) - 1)
            #expect(dx[i] == 2.5 * Float(i % 5))
        }
        try GradientChecker().check(layer, inputShape: [2, 3, 4])
        // Defaults come from the manifest: scale 1, shift 0.
        let identity = try #require(try PluginFixtures.layer(#"{"kind": "scale_shift"}"#, registry: registry, diagnostics: diagnostics))
        #expect(try run(identity).y == (0..<24).map { Float($0) - 10 })
        #expect(diagnostics.isEmpty, "\(diagnostics.errors)")
    }

    @Test func withoutAConstructorCreateReadsTheJSONCObject() throws {
        // The same component with the manifest's ffi_constructor removed goes through create,
        // which reads scale and shift with json_object_object_get_ex.
        let registry = try registry { m in
            guard case var .array(list) = m["components"] ?? .null else { return }
            for i in list.indices {
                if case var .object(c) = list[i], c["name"] == "scale_shift" { c.removeValue(forKey: "ffi_constructor"); list[i] = .object(c) }
            }
            m["components"] = .array(list)
        }
        let diagnostics = Diagnostics()
        let layer = try #require(try PluginFixtures.layer(#"{"kind": "scale_shift", "scale": 2.5, "shift": -1}"#, registry: registry, diagnostics: diagnostics))
        let plugin = try PluginHost.load(try #require(registry.pluginDiscovery.manifests.first))
        #expect(plugin.constructor(.layer, "scale_shift") == nil)
        let (y, dx) = try run(layer)
        for i in 0..<y.count {
            #expect(y[i] == 2.5 * (Float(i) - 10) - 1)
            #expect(dx[i] == 2.5 * Float(i % 5))
        }
        #expect(diagnostics.isEmpty, "\(diagnostics.errors)")
    }

    @Test func argumentErrorsAreReportedAtTheirJSONPath() throws {
        let registry = try registry()
        let diagnostics = Diagnostics()
        _ = try PluginFixtures.layer(#"{"kind": "scale_shift", "scale": 1e39}"#, registry: registry, diagnostics: diagnostics)
        _ = try PluginFixtures.layer(#"{"kind": "scale_shift", "shift": "up"}"#, registry: registry, diagnostics: diagnostics)
        // A value the C type takes but the plugin refuses: NULL with the plugin's message.
        _ = try PluginFixtures.layer(#"{"kind": "scale_shift", "shift": 1e300}"#, registry: registry, diagnostics: diagnostics)
        let messages = diagnostics.errors.map(\.description)
        #expect(messages.contains("$.model.scale: expected a number within float32 range, got 1e+39"), "\(messages)")
        #expect(messages.contains(#"$.model.shift: expected a number, got string "up""#), "\(messages)")
        #expect(messages.contains(#"$.model: plugin c-layers, layer "scale_shift": typed constructor c_layers_scale_shift_new failed (invalid argument): scale and shift must be finite float32 values"#), "\(messages)")
    }

    @Test func manifestConstructorsAreChecked() throws {
        func problems(_ component: JSONValue) -> String {
            var m: JSONObject = ["name": "x", "version": "1", "abi": ["major": 0, "minor": 1], "library": "libx.so", "sha256": .null]
            m["components"] = [component]
            do {
                _ = try PluginManifest.parse(Array(JSONValue.object(m).serialized(pretty: false).utf8), path: "/p/plugin.json")
                return ""
            } catch {
                return error.reason
            }
        }
        let parameters: JSONValue = ["n": ["type": "integer", "default": 5_000_000_000, "description": "d"], "f": ["type": "number", "description": "d"]]
        let bad = problems(["kind": "layer", "name": "l", "description": "d", "parameters": parameters,
                            "ffi_constructor": ["symbol": "9new", "arguments": [["name": "n", "type": "int32"], ["name": "f", "type": "bool"],
                                                                                  ["name": "g", "type": "float32"], ["name": "f", "type": "float16"]]]])
        #expect(bad.contains(#"$.components[0].ffi_constructor.symbol: must be a C identifier, got "9new""#), "\(bad)")
        #expect(bad.contains(#"$.components[0].ffi_constructor.arguments[0]: the default of "n" does not fit: expected an integer that fits int32"#), "\(bad)")
        #expect(bad.contains(#"$.components[0].ffi_constructor.arguments[1].type: a bool argument needs a parameter of type boolean, "f" is declared number"#), "\(bad)")
        #expect(bad.contains(#"$.components[0].ffi_constructor.arguments[2].name: "g" is not one of the component's parameters"#), "\(bad)")
        #expect(bad.contains("$.components[0].ffi_constructor.arguments[3].type"), "\(bad)")
        let good = problems(["kind": "layer", "name": "l", "description": "d", "parameters": parameters,
                             "ffi_constructor": ["symbol": "l_new", "arguments": [["name": "n", "type": "int64"], ["name": "f", "type": "float32"]]]])
        #expect(good == "")
    }

    @Test func aConstructorTheLibraryDoesNotRegisterOrExportRefusesThePlugin() throws {
        func refusal(_ edit: @escaping (inout JSONObject) -> Void) throws -> String {
            let folder = RecipeFixtures.temporaryDirectory("plugins")
            try PluginFixtures.makePlugin(in: folder, edit: edit)
            let manifest = try #require(PluginDiscovery.discover(searchPath: [folder.path]).manifests.first)
            do {
                _ = try PluginHost.load(manifest)
                return ""
            } catch {
                #expect(error.description.contains(manifest.path))
                return error.reason
            }
        }
        func setConstructor(_ name: String, _ symbol: String) -> (inout JSONObject) -> Void {
            { m in
                guard case var .array(list) = m["components"] ?? .null else { return }
                for i in list.indices {
                    if case var .object(c) = list[i], c["name"] == .string(name) {
                        c["ffi_constructor"] = ["symbol": .string(symbol), "arguments": []]
                        list[i] = .object(c)
                    }
                }
                m["components"] = .array(list)
            }
        }
        let none = try refusal(setConstructor("leaky_relu", "leaky_relu_new"))
        #expect(none.contains(#"layer "leaky_relu": the manifest declares the typed constructor leaky_relu_new, the plugin registers none"#), "\(none)")
        let other = try refusal(setConstructor("scale_shift", "scale_shift_other"))
        #expect(other.contains("the manifest declares the typed constructor scale_shift_other, the plugin registers c_layers_scale_shift_new"), "\(other)")
    }

    @Test func onlyTheEntryPointAndTheConstructorAreExported() throws {
        let handle = try #require(dlopen(PluginFixtures.cLayersLibrary.path, RTLD_NOW | RTLD_LOCAL))
        #expect(dlsym(handle, "strata_plugin_entry") != nil)
        #expect(dlsym(handle, "c_layers_scale_shift_new") != nil)
        for hidden in ["cl_host", "cl_dense_f32_count", "cl_leaky_relu_ops", "cl_scale_ops", "cl_scale_shift_ops", "cl_cross_entropy_ops"] {
            #expect(dlsym(handle, hidden) == nil, "\(hidden) is exported")
        }
    }

    @Test(.enabled(if: PluginFixtures.cc != nil, "needs a C compiler to build test plugins"))
    func createReceivesABorrowedJSONCObjectOfTheSameOptions() throws {
        // A layer whose create refuses a NULL config_object and keeps a reference (json_object_get)
        // to check it still holds the options after the host released its own in destroy.
        let source = testPluginSource(entry: normalEntry)
            .replacingOccurrences(of: "#include <strata/strata.h>", with: "#include <strata/strata.h>\n#include <json-c/json.h>")
            .replacingOccurrences(of: "static StrataStatus create(const char *c, const void *o, void **i, StrataError *e) { (void)c; (void)o; (void)e; *i = NULL; return STRATA_OK; }", with: """
            static StrataStatus create(const char *c, const void *o, void **i, StrataError *e) {
                json_object *v = NULL; (void)c;
                if (o == NULL) return host->set_error(e, STRATA_ERR_INTERNAL, "no config_object");
                if (!json_object_object_get_ex((json_object *)o, "tag", &v) || json_object_get_int((v)) != 42)
                    return host->set_error(e, STRATA_ERR_INVALID_ARGUMENT, json_object_to_json_string((json_object *)o));
                *i = json_object_get((json_object *)o); return STRATA_OK;
            }
            """)
            .replacingOccurrences(of: "static void destroy(void *i) { (void)i; }", with: """
            static void destroy(void *i) { json_object *v = NULL; if (json_object_object_get_ex((json_object *)i, "tag", &v) && json_object_get_int(v) == 42) json_object_put((json_object *)i); }
            """)
        guard let cc = PluginFixtures.cc else { return }
        let dir = RecipeFixtures.temporaryDirectory()
        try Data(source.utf8).write(to: dir.appendingPathComponent("jsonc.c"))
        let library = dir.appendingPathComponent("libjsonc.so")
        let built = try runProgram(cc, ["-std=c99", "-fPIC", "-shared", "-fvisibility=hidden", "-I", RecipeFixtures.repositoryRoot.appendingPathComponent("include").path,
                                        dir.appendingPathComponent("jsonc.c").path, "-o", library.path, "-ljson-c"])
        try #require(built.status == 0, "\(built.output)")
        let folder = RecipeFixtures.temporaryDirectory("plugins")
        try PluginFixtures.makePlugin(in: folder, library: library) { m in
            failingManifest(&m)
            m["components"] = [["kind": "layer", "name": "fail_forward", "description": "d",
                                "parameters": ["tag": ["type": "integer", "description": "d"]]]]
        }
        let registry = ComponentRegistry.withPlugins(searchPath: [folder.path])
        let diagnostics = Diagnostics()
        var layer = try PluginFixtures.layer(#"{"kind": "fail_forward", "tag": 42}"#, registry: registry, diagnostics: diagnostics)
        #expect(layer != nil && diagnostics.isEmpty, "\(diagnostics.errors)")
        layer = nil
        _ = try PluginFixtures.layer(#"{"kind": "fail_forward", "tag": 7}"#, registry: registry, diagnostics: diagnostics)
        #expect(diagnostics.errors.map(\.description).contains { $0.hasSuffix(#"create failed (invalid argument): { "tag": 7 }"#) }, "\(diagnostics.errors)")
    }

    @Test(.enabled(if: PluginFixtures.cc != nil, "needs a C compiler to build test plugins"))
    func everyArgumentTypeArrivesAsDeclared() throws {
        let folder = RecipeFixtures.temporaryDirectory("plugins")
        let library = try PluginFixtures.compile(probeSource, name: "probe", in: RecipeFixtures.temporaryDirectory())
        try PluginFixtures.makePlugin(in: folder, library: library, edit: probeManifest)
        let registry = ComponentRegistry.withPlugins(searchPath: [folder.path])
        #expect(registry.pluginDiscovery.refusals.isEmpty, "\(registry.pluginDiscovery.refusals)")
        func echo(_ json: String) throws -> [Float] {
            let diagnostics = Diagnostics()
            let layer = try #require(try PluginFixtures.layer(json, registry: registry, diagnostics: diagnostics), "\(diagnostics.errors)")
            var context = BuildContext(seed: 1)
            _ = try layer.build(inputShape: [1, 6], context: &context)
            let y = Tensor(shape: [1, 6])
            try layer.forward(input: Tensor(shape: [1, 6]), output: y, training: false)
            return y.array()
        }
        #expect(try echo(#"{"kind": "probe"}"#) == [-7, 3_000_000_000, 0.25, 1.5, 1, 5])
        #expect(try echo(#"{"kind": "probe", "a": 2147483647, "b": -5, "c": -3.5, "d": 1e10, "e": false, "s": "héllo wörld"}"#)
                == [2147483647, -5, -3.5, 1e10, 0, 13])
        let diagnostics = Diagnostics()
        _ = try PluginFixtures.layer(#"{"kind": "probe", "a": 2147483648, "s": "fail"}"#, registry: registry, diagnostics: diagnostics)
        _ = try PluginFixtures.layer(#"{"kind": "probe", "s": "fail"}"#, registry: registry, diagnostics: diagnostics)
        let messages = diagnostics.errors.map(\.description)
        #expect(messages.contains("$.model.a: expected an integer that fits int32, got 2147483648"), "\(messages)")
        #expect(messages.contains(#"$.model: plugin probe, layer "probe": typed constructor probe_new failed (invalid argument): s may not be "fail""#), "\(messages)")
    }
}
