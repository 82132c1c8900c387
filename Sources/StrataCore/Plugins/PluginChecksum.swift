import Foundation

extension PluginInstaller {
    /// Fills in the `sha256` of the manifest at `path` (a `plugin.json`, or a folder holding
    /// one) from the library it names, in place, so that a plugin built by hand can be found on
    /// `STRATA_PLUGIN_PATH` (`strata plugins checksum PATH`). Run it again after every rebuild.
    /// - Returns: the manifest written, its library and the digest.
    /// - Throws: `PluginRefusal` naming the manifest (and library) when either cannot be read,
    ///   the manifest is invalid, or it cannot be written.
    public static func fillChecksum(path: String) throws(PluginRefusal) -> Installed {
        var isDirectory: ObjCBool = false
        let manifestPath = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            ? URL(fileURLWithPath: path).appendingPathComponent("plugin.json").path : path
        let absolute = URL(fileURLWithPath: manifestPath).standardizedFileURL.path
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(absolute, limit: 1 << 20)
        } catch {
            throw PluginRefusal(manifest: absolute, reason: "cannot read the manifest: \(error.reason)")
        }
        let manifest = try PluginManifest.parse(bytes, path: absolute)
        let digest: String
        do {
            digest = try PluginHost.sha256(file: manifest.libraryPath)
        } catch {
            throw PluginRefusal(manifest: absolute, library: manifest.libraryPath, reason: "not built: \(error.reason)")
        }
        guard case var .object(object) = (try? JSONParser.parse(bytes)) ?? .null else {
            throw PluginRefusal(manifest: absolute, reason: "the manifest is not a JSON object")
        }
        object["sha256"] = .string(digest)
        do {
            try Data((JSONValue.object(object).serialized(pretty: true) + "\n").utf8).write(to: URL(fileURLWithPath: absolute), options: .atomic)
        } catch {
            throw PluginRefusal(manifest: absolute, reason: "cannot write the manifest: \(error.localizedDescription)")
        }
        return Installed(manifest: absolute, library: manifest.libraryPath, sha256: digest)
    }
}
