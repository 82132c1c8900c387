import CStrata
import Foundation

/// Calls a plugin's model builder (`StrataModelOps.build`): the recipe's options go in as JSON
/// text, a model graph in the recipe's layer format comes back, is parsed, and is handed back
/// to the plugin's `release_string`. Every failure names the plugin and the builder.
enum PluginModelBuilder {
    /// Longest graph text accepted (bytes).
    static let maxGraphBytes = 16 << 20

    /// The graph `ops` builds for `options`.
    /// - Throws: `StrataError.badInput` naming the plugin and builder when `build` fails or its
    ///   text is not JSON.
    static func graph(plugin: LoadedPlugin, kind: String, ops: UnsafePointer<StrataModelOps>, options: JSONObject) throws -> JSONValue {
        let where_ = "plugin \(plugin.manifest.name), model \"\(kind)\""
        let text = JSONValue.object(options).serialized(pretty: false)
        var err = PluginLayer.newError()
        var out: UnsafeMutablePointer<CChar>?
        let status = text.withCString { ops.pointee.build!($0, nil, &out, &err) }
        // Whatever the status, a text the plugin handed out goes back to it.
        defer { if let out { ops.pointee.release_string!(out) } }
        guard status == STRATA_OK else {
            let message = HostAPI.message(of: &err)
            throw StrataError.badInput("\(where_): build failed (\(PluginLayer.statusName(status))): " + (message.isEmpty ? "no message" : message))
        }
        guard let out else { throw StrataError.badInput("\(where_): build returned no graph") }
        let length = strnlen(out, maxGraphBytes + 1)
        guard length <= maxGraphBytes else { throw StrataError.badInput("\(where_): the graph is longer than \(maxGraphBytes) bytes") }
        let bytes = [UInt8](UnsafeRawBufferPointer(start: out, count: length))
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw StrataError.badInput("\(where_): build returned text that is not JSON: \(error)")
        }
    }
}

extension PluginHost {
    /// Checks a model builder's ops table like `layerOps`: ABI major, a size covering both
    /// functions, and both functions present.
    static func modelOps(_ raw: UnsafeRawPointer, name: String, refuse: (String, Bool) -> PluginRefusal) throws(PluginRefusal) -> UnsafePointer<StrataModelOps> {
        let header = raw.assumingMemoryBound(to: UInt32.self)
        let size = Int(header[0]), abi = header[1]
        guard Int(abi >> 16) == abiMajor else {
            throw refuse("model \"\(name)\" has an ops table of ABI \(version(abi)); this host implements ABI \(abiMajor).\(abiMinor)", true)
        }
        let needed = MemoryLayout<StrataModelOps>.offset(of: \.release_string)! + MemoryLayout<UnsafeRawPointer>.size
        guard size >= needed else {
            throw refuse("model \"\(name)\" has an ops table of struct_size \(size); at least \(needed) is needed", true)
        }
        let ops = UnsafeMutablePointer<StrataModelOps>.allocate(capacity: 1)
        ops.initialize(to: StrataModelOps())
        UnsafeMutableRawPointer(ops).copyMemory(from: raw, byteCount: min(size, MemoryLayout<StrataModelOps>.size))
        var missing: [String] = []
        if ops.pointee.build == nil { missing.append("build") }
        if ops.pointee.release_string == nil { missing.append("release_string") }
        guard missing.isEmpty else { throw refuse("model \"\(name)\" lacks the required \(missing.joined(separator: ", "))", true) }
        return UnsafePointer(ops)
    }
}

extension ComponentRegistry {
    /// Reads the options the manifest declares (type-checked; others are reported as unknown
    /// keys), loads the plugin on first use, and asks its builder for the model graph.
    static func pluginModelFactory(manifest: PluginManifest, component: PluginManifest.Component) -> ModelFactory {
        { reader in
            guard let options = declaredOptions(component, &reader), let plugin = loaded(manifest, component, &reader) else { return nil }
            guard let ops = plugin.models[component.name] else {
                reader.diagnostics.error(at: reader.path, "plugin \(manifest.name) (\(manifest.path)) registered no model \"\(component.name)\"")
                return nil
            }
            do {
                return try PluginModelBuilder.graph(plugin: plugin, kind: component.name, ops: ops, options: options)
            } catch {
                reader.diagnostics.error(at: reader.path, "\(error)")
                return nil
            }
        }
    }
}
