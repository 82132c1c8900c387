import CStrata
import Foundation

/// Calls a plugin's model builder (`StrataModelOps.build`): the recipe's options go in as JSON
/// text, a model graph in the recipe's layer format comes back, is parsed, and is handed back
/// to the plugin's `release_string`. Every failure names the plugin and the builder.
enum PluginModelBuilder {
    /// Longest graph text accepted (bytes).
    static let maxGraphBytes = 16 << 20

    /// The graph `ops` builds for `options`.
    /// - Throws: `CoreError.badInput` naming the plugin and builder when `build` fails or its
    ///   text is not JSON.
    static func graph(plugin: LoadedPlugin, kind: String, ops: UnsafePointer<StrataModelOps>, options: JSONObject) throws -> JSONValue {
        let context = plugin.context(.model, kind)
        let where_ = "plugin \(plugin.manifest.name), model \"\(kind)\""
        let text = JSONValue.object(options).serialized(pretty: false)
        var err = PluginLayer.newError()
        var out: UnsafeMutablePointer<CChar>?
        let status = text.withCString { json -> StrataStatus in
            if let build = ops.pointee.build_with_context { return build(context, json, nil, &out, &err) }
            return ops.pointee.build!(json, nil, &out, &err)
        }
        // Whatever the status, a text the plugin handed out goes back to it.
        defer { if let out { ops.pointee.release_string!(out) } }
        guard status == STRATA_OK else {
            let message = HostAPI.message(of: &err)
            throw CoreError.badInput(.component(plugin: plugin.manifest.name, kind: "model", name: kind), "\(where_): build failed (\(PluginLayer.statusName(status))): " + (message.isEmpty ? "no message" : message))
        }
        guard let out else { throw CoreError.badInput(.component(plugin: plugin.manifest.name, kind: "model", name: kind), "\(where_): build returned no graph") }
        let length = strnlen(out, maxGraphBytes + 1)
        guard length <= maxGraphBytes else { throw CoreError.badInput(.component(plugin: plugin.manifest.name, kind: "model", name: kind), "\(where_): the graph is longer than \(maxGraphBytes) bytes") }
        let bytes = [UInt8](UnsafeRawBufferPointer(start: out, count: length))
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw CoreError.badInput(.component(plugin: plugin.manifest.name, kind: "model", name: kind), "\(where_): build returned text that is not JSON: \(error)")
        }
    }
}

extension PluginHost {
    /// Checks a model builder's ops table: build and release_string are required.
    static func modelOps(_ raw: UnsafeRawPointer, name: String, refuse: (String, Bool) -> PluginRefusal) throws(PluginRefusal) -> UnsafePointer<StrataModelOps> {
        try checkedOps(raw, kind: "model", name: name, empty: StrataModelOps(),
                       needed: MemoryLayout<StrataModelOps>.offset(of: \.release_string)! + MemoryLayout<UnsafeRawPointer>.size,
                       required: [("build", { $0.build != nil || $0.build_with_context != nil }), ("release_string", { $0.release_string != nil })],
                       refuse: refuse)
    }
}

extension ComponentRegistry {
    /// Reads the options the manifest declares (type-checked; others are reported as unknown
    /// keys) and loads the plugin on first use; its builder is asked for the model graph when
    /// the model is built.
    static func pluginModelFactory(manifest: PluginManifest, component: PluginManifest.Component) -> ModelFactory {
        { reader in
            guard let (options, plugin, ops) = resolve(manifest, component, "model", \.models, &reader) else { return nil }
            return { try PluginModelBuilder.graph(plugin: plugin, kind: component.name, ops: ops, options: options) }
        }
    }
}
