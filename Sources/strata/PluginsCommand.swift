import ArgumentParser
import Foundation
import StrataCore

/// `strata plugins [--json]` lists every manifest found, where, what it provides, and every
/// refusal with its reason; `strata plugins install` installs the source tree's plugins into
/// the default plugin folder; `strata plugins checksum PATH` fills in a hand-built plugin's
/// checksum.
struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the plugins found and refused, or install the built plugins.",
        subcommands: [List.self, Install.self, Checksum.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every manifest found on STRATA_PLUGIN_PATH and the default folder, what it provides, and every refusal with its reason.")

        @Flag(name: .long, help: "Print JSON instead of text.") var json = false

        func run() throws {
            let registry = ComponentRegistry.withPlugins()
            var discovery = registry.pluginDiscovery
            // Listing is where libraries are verified: checksum, dlopen, entry point, registration.
            var loaded: [(PluginManifest, LoadedPlugin)] = []
            for manifest in discovery.manifests {
                do {
                    loaded.append((manifest, try PluginHost.load(manifest)))
                } catch {
                    discovery.refusals.append(error)
                }
            }
            let defaultFolder = PluginDiscovery.defaultFolder
            if json {
                print(Self.json(discovery: discovery, loaded: loaded, defaultFolder: defaultFolder).serialized(pretty: true))
                return
            }
            var lines: [String] = ["search path:"]
            for folder in discovery.searchPath {
                lines.append("  \(folder)" + (folder == defaultFolder ? " (default)" : " (STRATA_PLUGIN_PATH)"))
            }
            lines.append(loaded.isEmpty ? "plugins: none" : "plugins:")
            for (m, plugin) in loaded {
                lines.append("  \(m.name) \(m.version) (ABI \(plugin.abiVersion >> 16).\(plugin.abiVersion & 0xFFFF)): \(m.path)")
                lines.append("    library \(m.libraryPath) (sha256 \(m.sha256 ?? "-"))")
                for c in m.components {
                    lines.append("    \(c.kind) \(c.name): \(c.description)")
                    if let k = c.constructor {
                        lines.append("      typed constructor \(k.symbol)(\(k.arguments.map { "\($0.name): \($0.type.rawValue)" }.joined(separator: ", ")))")
                    }
                    for p in c.parameters {
                        let def = p.defaultValue.map { " = \($0)" } ?? " (required)"
                        lines.append("      \(p.name): \(p.type)\(def) - \(p.description)")
                    }
                }
            }
            lines.append(discovery.refusals.isEmpty ? "refused: none" : "refused:")
            for r in discovery.refusals { lines.append("  \(r)") }
            print(lines.joined(separator: "\n"))
        }

        static func json(discovery: PluginDiscovery.Result, loaded: [(PluginManifest, LoadedPlugin)], defaultFolder: String?) -> JSONValue {
            let plugins: [JSONValue] = loaded.map { m, plugin in
                let components: [JSONValue] = m.components.map { c in
                    let parameters: [JSONValue] = c.parameters.map { p in
                        .object(JSONObject([("name", .string(p.name)), ("type", .string(p.type)), ("default", p.defaultValue ?? .null),
                                            ("description", .string(p.description))]))
                    }
                    var object = JSONObject([("kind", .string(c.kind.description)), ("name", .string(c.name)),
                                             ("description", .string(c.description)), ("parameters", .array(parameters))])
                    if let k = c.constructor {
                        let arguments: [JSONValue] = k.arguments.map { .object(JSONObject([("name", .string($0.name)), ("type", .string($0.type.rawValue))])) }
                        object["ffi_constructor"] = .object(JSONObject([("symbol", .string(k.symbol)), ("arguments", .array(arguments))]))
                    }
                    return .object(object)
                }
                return .object(JSONObject([
                    ("name", .string(m.name)), ("version", .string(m.version)), ("manifest", .string(m.path)),
                    ("library", .string(m.libraryPath)), ("sha256", m.sha256.map { .string($0) } ?? .null),
                    ("abi", .string("\(plugin.abiVersion >> 16).\(plugin.abiVersion & 0xFFFF)")), ("components", .array(components)),
                ]))
            }
            let refusals: [JSONValue] = discovery.refusals.map { r in
                .object(JSONObject([("manifest", .string(r.manifest)), ("library", r.library.map { .string($0) } ?? .null),
                                    ("reason", .string(r.reason))]))
            }
            return .object(JSONObject([
                ("search_path", .array(discovery.searchPath.map { .string($0) })),
                ("default_folder", defaultFolder.map { .string($0) } ?? .null),
                ("plugins", .array(plugins)), ("refusals", .array(refusals)),
            ]))
        }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install the plugins of a source tree (default: ./Plugins) into the default plugin folder, with library paths and checksums filled in.")

        @Option(name: .long, help: "Folder holding one folder per plugin, each with a plugin.json.") var source = "Plugins"
        @Option(name: .long, help: "Where the built libraries are (default: this executable's folder).") var libraries: String?
        @Option(name: .long, help: "Plugin folder to install into (default: plugins/ next to this executable).") var into: String?

        func run() throws {
            guard let exeDirectory = PluginDiscovery.executableDirectory else {
                throw report(CoreError.runtime("cannot find the folder of the running executable"))
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw report(CoreError.badInput("\(source): no such plugin source folder"))
            }
            let result = PluginInstaller.install(source: source, libraryDirectory: libraries ?? exeDirectory,
                                                 into: into ?? exeDirectory + "/plugins")
            for i in result.installed { print("installed \(i.manifest) (library \(i.library), sha256 \(i.sha256))") }
            for r in result.refusals { FileHandle.standardError.write(Data("strata: not installed: \(r)\n".utf8)) }
            if !result.refusals.isEmpty { throw ExitCode(2) }
        }
    }

    struct Checksum: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the SHA-256 of a plugin's library into its plugin.json (after building it by hand; again after every rebuild).")

        @Argument(help: "A plugin.json, or the folder holding it.") var path = "plugin.json"

        func run() throws {
            do {
                let done = try PluginInstaller.fillChecksum(path: path)
                print("\(done.manifest): sha256 \(done.sha256) (library \(done.library))")
            } catch {
                throw report(CoreError.badInput("\(error)"))
            }
        }
    }
}
