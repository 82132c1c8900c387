import CStrata
import CStrataKernels
import Foundation
import Testing
@testable import StrataCore

@Suite("Plugin manifests, checksums and the host API")
struct PluginManifestTests {
    @Test func sha256MatchesKnownVectors() throws {
        #expect(PluginHost.sha256([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(PluginHost.sha256(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(PluginHost.sha256(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        let million = [UInt8](repeating: 0x61, count: 1_000_000)
        #expect(PluginHost.sha256(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        let file = RecipeFixtures.temporaryDirectory().appendingPathComponent("a.bin")
        try Data(million).write(to: file)
        #expect(try PluginHost.sha256(file: file.path) == PluginHost.sha256(million))
    }

    @Test func everyShippedManifestConformsToTheSchema() throws {
        let schemaURL = RecipeFixtures.repositoryRoot.appendingPathComponent("schemas/plugin.schema.json")
        let validator = try JSONSchemaValidator(schema: try JSONParser.parse([UInt8](try Data(contentsOf: schemaURL))))
        let paths = PluginDiscovery.manifestPaths(in: RecipeFixtures.repositoryRoot.appendingPathComponent("Plugins").path)
        #expect(!paths.isEmpty, "Plugins/ holds no manifest")
        for path in paths {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let violations = validator.validate(try JSONParser.parse(bytes))
            #expect(violations.isEmpty, "\(path):\n\(violations.map(\.description).joined(separator: "\n"))")
            _ = try PluginManifest.parse(bytes, path: path)
        }
        // An installed manifest (checksum and library filled in) conforms too.
        let search = RecipeFixtures.temporaryDirectory("plugins")
        let installed = try PluginFixtures.makePlugin(in: search)
        #expect(validator.validate(try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: installed))))).isEmpty)
    }

    @Test func installFillsInLibraryAndChecksum() throws {
        let into = RecipeFixtures.temporaryDirectory("install").appendingPathComponent("plugins")
        let result = PluginInstaller.install(source: RecipeFixtures.repositoryRoot.appendingPathComponent("Plugins").path,
                                             libraryDirectory: PluginFixtures.productsDirectory.path, into: into.path)
        #expect(result.refusals.isEmpty, "\(result.refusals)")
        let installed = try #require(result.installed.first { $0.manifest.hasSuffix("c-layers/plugin.json") })
        let manifest = try PluginManifest.load(path: installed.manifest)
        #expect(manifest.sha256 == (try PluginHost.sha256(file: PluginFixtures.cLayersLibrary.path)))
        #expect(manifest.libraryPath == PluginFixtures.cLayersLibrary.standardizedFileURL.path)
        let found = PluginDiscovery.discover(searchPath: [into.path])
        #expect(found.refusals.isEmpty && found.manifests.map(\.name) == ["boostresnet", "c-callbacks", "c-layers", "c-optimizers", "swift-training", "vision"], "\(found.refusals)")
    }

    @Test func hostConfigReadersFollowDottedPaths() throws {
        let host = HostAPI.makeTable(pluginName: "test").pointee
        var err = StrataError()
        err.struct_size = UInt32(MemoryLayout<StrataError>.size)
        let json = #"{"a": 3, "b": {"c": [1.5, true, "xyz"]}, "n": null}"#
        var i: Int64 = -1
        #expect(host.config_get_int!(json, "a", &i, &err) == 0 && i == 3)
        var d = 0.0
        #expect(host.config_get_double!(json, "b.c.0", &d, &err) == 0 && d == 1.5)
        var flag: Int32 = 0
        #expect(host.config_get_bool!(json, "b.c.1", &flag, &err) == 0 && flag == 1)
        var buffer = [CChar](repeating: 0, count: 8)
        var length: UInt64 = 0
        #expect(host.config_get_string!(json, "b.c.2", &buffer, 8, &length, &err) == 0 && length == 3)
        #expect(String(cString: buffer) == "xyz")
        #expect(host.config_get_string!(json, "b.c.2", &buffer, 3, &length, &err) == STRATA_ERR_INVALID_ARGUMENT)
        // Absent and null leave the output untouched.
        i = 42
        #expect(host.config_get_int!(json, "missing", &i, &err) == 0 && i == 42)
        #expect(host.config_get_int!(json, "n", &i, &err) == 0 && i == 42)
        #expect(host.config_has!(json, "b.c.2") == 1 && host.config_has!(json, "n") == 0 && host.config_has!("{", "a") == 0)
        // A wrong type names the path.
        #expect(host.config_get_int!(json, "b.c.0", &i, &err) == STRATA_ERR_INVALID_ARGUMENT)
        #expect(HostAPI.message(of: &err).contains("b.c.0"))
        // "strata.train" 0.3 answers requests for 0.1 to 0.3, not for another major, a newer
        // minor or another name; its table starts with its size and version.
        for version in [UInt32(0x0000_0001), 0x0000_0002, 0x0000_0003] {
            let table = try #require(host.get_interface!(host.host_ctx, "strata.train", version))
            let api = table.assumingMemoryBound(to: StrataTrainAPI.self).pointee
            #expect(api.abi_version == 0x0000_0003 && Int(api.struct_size) == MemoryLayout<StrataTrainAPI>.size)
            #expect(api.model_graph != nil && api.dataset_class_count != nil && api.model_build != nil)
            #expect(api.model_hook != nil && api.hook_output != nil && api.hook_remove != nil)
            // Outside a run every handle is stale: refused, never dereferenced.
            let bogus = OpaquePointer(bitPattern: 0x1000)
            var out: UnsafePointer<StrataTensor>? = nil
            #expect(api.model_forward!(bogus, 0, 1, nil, 0, &out, &err) == STRATA_ERR_INVALID_ARGUMENT)
            #expect(HostAPI.message(of: &err).contains("bad model handle"))
            #expect(api.model_child_count!(bogus) == -1 && api.model_graph!(bogus) == nil && api.dataset_size!(bogus) == -1)
        }
        #expect(host.get_interface!(host.host_ctx, "strata.train", 0x0000_0004) == nil)
        #expect(host.get_interface!(host.host_ctx, "strata.train", 0x0001_0000) == nil)
        #expect(host.get_interface!(host.host_ctx, "strata.other", 0x0000_0001) == nil)
        // set_error truncates on a character boundary.
        let long = String(repeating: "é", count: 400)
        #expect(host.set_error!(&err, 5, long) == 5)
        let message = HostAPI.message(of: &err)
        #expect(message.utf8.count == 510 && message.allSatisfy { $0 == "é" })
    }

    @Test func hostTensorsAreAlignedZeroedAndStrided() throws {
        let host = HostAPI.makeTable(pluginName: "test").pointee
        var err = StrataError()
        err.struct_size = UInt32(MemoryLayout<StrataError>.size)
        var out: UnsafeMutablePointer<StrataTensor>?
        let shape: [Int64] = [2, 3, 4]
        #expect(host.tensor_alloc!(host.host_ctx, 3, shape, &out, &err) == 0)
        let t = try #require(out)
        #expect(Int(bitPattern: t.pointee.data) % 64 == 0)
        #expect(t.pointee.ndim == 3 && t.pointee.strides![0] == 12 && t.pointee.strides![1] == 4 && t.pointee.strides![2] == 1)
        let floats = t.pointee.data!.assumingMemoryBound(to: Float.self)
        #expect((0..<24).allSatisfy { floats[$0] == 0 })
        host.tensor_release!(host.host_ctx, t)
        #expect(host.thread_count!(host.host_ctx) == sk_threads())
        #expect(host.tensor_alloc!(host.host_ctx, 9, shape, &out, &err) == STRATA_ERR_INVALID_ARGUMENT)
    }
}
