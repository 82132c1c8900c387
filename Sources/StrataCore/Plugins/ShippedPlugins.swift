import Foundation

/// The plugins shipped in this source tree (`Plugins/*/plugin.json`), found by the binaries of
/// its own build without a separate install step: when a shipped plugin's library sits next to
/// the running executable and the default plugin folder has no manifest for it, or an older one
/// than the library, the manifest is installed there (with path and checksum) before discovery.
/// `strata plugins install` does the same on demand, and installs elsewhere.
public enum ShippedPlugins {
    /// `Plugins/` of the source tree this library was built from, if it is still there.
    public static var sourceFolder: String? {
        // This file is Sources/StrataCore/Plugins/ShippedPlugins.swift.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let folder = root.appendingPathComponent("Plugins").path
        return FileManager.default.fileExists(atPath: folder) ? folder : nil
    }

    /// Installs into the default folder every shipped plugin whose built library is next to the
    /// executable and whose installed manifest is missing or older than the library or the source
    /// manifest. Returns the manifests written (none when everything is current).
    @discardableResult
    public static func installIfNeeded() -> [String] {
        guard let source = sourceFolder, let exeDir = PluginDiscovery.executableDirectory,
              let into = PluginDiscovery.defaultFolder else { return [] }
        let stale = PluginDiscovery.manifestPaths(in: source).contains { manifestPath in
            guard let manifest = try? PluginManifest.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: manifestPath))), path: manifestPath)
            else { return false }
            let folderName = URL(fileURLWithPath: manifestPath).deletingLastPathComponent().lastPathComponent
            let library = exeDir + "/" + URL(fileURLWithPath: manifest.library).lastPathComponent
            let installed = into + "/" + folderName + "/plugin.json"
            guard let built = modified(library) else { return false }  // not built with this binary
            guard let written = modified(installed) else { return true }
            return built > written || (modified(manifestPath) ?? .distantPast) > written
        }
        guard stale else { return [] }
        return PluginInstaller.install(source: source, libraryDirectory: exeDir, into: into).installed.map(\.manifest)
    }

    private static func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
