import Foundation

/// Finds plugin manifests without opening any library.
///
/// The search path is `STRATA_PLUGIN_PATH` (folders separated by `:`), then the default folder
/// `plugins/` next to the running executable. In each folder, every `*/plugin.json` one level
/// down is a manifest. Earlier folders win: a later plugin whose name, or one of whose
/// components, is already taken is refused with both manifests named.
public enum PluginDiscovery {
    /// What a search found: the manifests accepted, in search order, and every refusal.
    public struct Result: Sendable {
        /// The manifests accepted, in search order.
        public var manifests: [PluginManifest] = []
        /// Every manifest refused, with its reason.
        public var refusals: [PluginRefusal] = []
        /// The folders searched, in order.
        public var searchPath: [String] = []
        /// Nothing found yet.
        public init() {}
    }

    /// Folder of the running executable (`/proc/self/exe`'s directory), or nil.
    public static var executableDirectory: String? {
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return CommandLine.arguments.first.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
        }
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }

    /// The default plugin folder: `plugins/` next to the running executable.
    public static var defaultFolder: String? {
        executableDirectory.map { $0 + "/plugins" }
    }

    /// `STRATA_PLUGIN_PATH`'s folders (empty entries skipped), then the default folder.
    public static func defaultSearchPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var folders = (environment["STRATA_PLUGIN_PATH"] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        if let d = defaultFolder { folders.append(d) }
        return folders
    }

    /// Every `plugin.json` one level below `folder`, sorted by path. A missing folder has none.
    public static func manifestPaths(in folder: String) -> [String] {
        let fm = FileManager.default
        guard let entries = try? fm.contentsOfDirectory(atPath: folder) else { return [] }
        return entries.sorted().compactMap { entry in
            let candidate = URL(fileURLWithPath: folder).appendingPathComponent(entry).appendingPathComponent("plugin.json").path
            return fm.fileExists(atPath: candidate) ? candidate : nil
        }
    }

    /// Reads every manifest on `searchPath` and checks each on its own and against the others
    /// and against `reserved` (kind and name of components already provided, e.g. built-ins,
    /// with their origin). Never opens a library.
    public static func discover(searchPath: [String], reserved: [String: String] = [:]) -> Result {
        var result = Result()
        result.searchPath = searchPath
        var names: [String: String] = [:]          // plugin name -> manifest
        var taken = reserved                       // "layer leaky_relu" -> origin
        var seenManifests = Set<String>()
        for folder in searchPath {
            for path in manifestPaths(in: folder) {
                let canonical = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
                guard seenManifests.insert(canonical).inserted else { continue }
                let manifest: PluginManifest
                do {
                    manifest = try PluginManifest.load(path: path)
                } catch {
                    result.refusals.append(error)
                    continue
                }
                if let reason = check(manifest) {
                    result.refusals.append(reason)
                    continue
                }
                if let other = names[manifest.name] {
                    result.refusals.append(PluginRefusal(manifest: path, reason: "plugin name \"\(manifest.name)\" is already provided by \(other)"))
                    continue
                }
                let clashes = manifest.components.compactMap { c -> String? in
                    taken["\(c.kind) \(c.name)"].map { "\(c.kind) \"\(c.name)\" is already provided by \($0)" }
                }
                if !clashes.isEmpty {
                    result.refusals.append(PluginRefusal(manifest: path, reason: clashes.joined(separator: "; ")))
                    continue
                }
                names[manifest.name] = path
                for c in manifest.components { taken["\(c.kind) \(c.name)"] = "plugin \(manifest.name) (\(path))" }
                result.manifests.append(manifest)
            }
        }
        return result
    }

    /// Problems visible without opening the library: another ABI major, no checksum, no library.
    static func check(_ m: PluginManifest) -> PluginRefusal? {
        if m.abiMajor != PluginHost.abiMajor {
            return PluginRefusal(manifest: m.path, reason: "built for Strata ABI \(m.abiMajor).\(m.abiMinor); this host implements ABI \(PluginHost.abiMajor).\(PluginHost.abiMinor) and refuses another major")
        }
        if m.sha256 == nil {
            return PluginRefusal(manifest: m.path, reason: "has no sha256 (a source manifest; `strata plugins install` installs it with its checksum)")
        }
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: m.libraryPath, isDirectory: &isDirectory) || isDirectory.boolValue {
            return PluginRefusal(manifest: m.path, library: m.libraryPath, reason: "the library file does not exist")
        }
        return nil
    }
}
