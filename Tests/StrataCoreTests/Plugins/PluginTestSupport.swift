import Foundation
@testable import StrataCore

/// Plugin folders for tests, built in temporary directories from the C plugin the package builds.
enum PluginFixtures {
    /// Folder of the built products (the test bundle sits beside `strata` and the plugin libraries).
    static var productsDirectory: URL { Bundle.module.bundleURL.deletingLastPathComponent() }
    /// The built c-layers library.
    static var cLayersLibrary: URL { productsDirectory.appendingPathComponent("libStrataCLayers.so") }
    /// The shipped source manifest of c-layers.
    static var cLayersSourceManifest: URL { RecipeFixtures.repositoryRoot.appendingPathComponent("Plugins/c-layers/plugin.json") }

    /// The source manifest as a JSON object.
    static func sourceManifest() throws -> JSONObject {
        let json = try JSONParser.parse([UInt8](try Data(contentsOf: cLayersSourceManifest)))
        guard case let .object(o) = json else { throw CoreError.runtime("the c-layers manifest is not an object") }
        return o
    }

    /// Writes a plugin folder `search/<folder>/` holding a copy of the c-layers library and a
    /// manifest with the right checksum, after `edit` has changed it. Returns the manifest path.
    @discardableResult
    static func makePlugin(in search: URL, folder: String = "c-layers", library: URL? = nil,
                           edit: (inout JSONObject) -> Void = { _ in }) throws -> String {
        let dir = search.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let source = library ?? cLayersLibrary
        let target = dir.appendingPathComponent(source.lastPathComponent)
        try? FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: source, to: target)
        var manifest = try sourceManifest()
        manifest["library"] = .string(source.lastPathComponent)
        manifest["sha256"] = .string(try PluginHost.sha256(file: target.path))
        edit(&manifest)
        let path = dir.appendingPathComponent("plugin.json")
        try Data(JSONValue.object(manifest).serialized(pretty: true).utf8).write(to: path)
        return path.path
    }

    /// Writes raw manifest text into `search/<folder>/plugin.json`.
    @discardableResult
    static func writeManifest(_ text: String, in search: URL, folder: String) throws -> String {
        let dir = search.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("plugin.json")
        try Data(text.utf8).write(to: path)
        return path.path
    }

    /// A C compiler, if the machine has one.
    static var cc: String? {
        ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Compiles `source` into a shared library `name` in `directory` with the ABI headers.
    static func compile(_ source: String, name: String, in directory: URL) throws -> URL {
        guard let cc else { throw CoreError.runtime("no C compiler") }
        let file = directory.appendingPathComponent(name + ".c")
        try Data(source.utf8).write(to: file)
        let out = directory.appendingPathComponent("lib\(name).so")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: cc)
        p.arguments = ["-std=c99", "-O1", "-fPIC", "-shared", "-fvisibility=hidden",
                       "-I", RecipeFixtures.repositoryRoot.appendingPathComponent("include").path, file.path, "-o", out.path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CoreError.runtime("cc failed: \(String(decoding: text, as: UTF8.self))") }
        return out
    }

    /// Reads and builds the layer described by `json` with `registry`, recording problems in
    /// `diagnostics` (a construction failure only when reading found none).
    static func layer(_ json: String, registry: ComponentRegistry, diagnostics: Diagnostics) throws -> (any Layer)? {
        let before = diagnostics.errors.count
        guard let spec = ModelBuilder(registry: registry, diagnostics: diagnostics).layer(try JSONParser.parse(json), path: "$.model"),
              diagnostics.errors.count == before else { return nil }
        var build = LayerBuild(registry: registry)
        do {
            return try spec.build(&build)
        } catch {
            for e in build.diagnostics.errors { diagnostics.report(e) }
            return nil
        }
    }
}
