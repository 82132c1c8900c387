import Foundation

extension ComponentRegistry {
    /// A registry holding the built-ins and the components of every plugin found on
    /// `searchPath` (by default `STRATA_PLUGIN_PATH`, then `plugins/` next to the executable).
    ///
    /// Only manifests are read: a plugin's library is opened the first time a recipe uses one
    /// of its components. Plugins that are refused are listed in `pluginDiscovery.refusals`
    /// and provide nothing; the rest are registered.
    /// With the default search path, the plugins shipped with this build are installed into the
    /// default folder first when they are missing or stale there (`ShippedPlugins`).
    public static func withPlugins(searchPath: [String]? = nil) -> ComponentRegistry {
        if searchPath == nil { ShippedPlugins.installIfNeeded() }
        let registry = builtIn()
        registry.addPlugins(searchPath: searchPath ?? PluginDiscovery.defaultSearchPath())
        return registry
    }

    /// Discovers the plugins on `searchPath` and registers each of their components (layers,
    /// losses, optimizers, callbacks, model builders, schemes) with a lazy factory.
    /// A component whose kind and name is already registered (a built-in or an earlier plugin)
    /// refuses its whole plugin, naming both.
    public func addPlugins(searchPath: [String]) {
        var reserved: [String: String] = [:]
        for (k, e) in layers { reserved["layer \(k)"] = e.origin }
        for (k, e) in optimizers { reserved["optimizer \(k)"] = e.origin }
        for (k, e) in losses { reserved["loss \(k)"] = e.origin }
        for (k, e) in callbacks { reserved["callback \(k)"] = e.origin }
        for (k, e) in models { reserved["model \(k)"] = e.origin }
        for (k, e) in schemes { reserved["scheme \(k)"] = e.origin }
        let found = PluginDiscovery.discover(searchPath: searchPath, reserved: reserved)
        pluginDiscovery.searchPath += found.searchPath
        pluginDiscovery.refusals += found.refusals
        for manifest in found.manifests {
            pluginDiscovery.manifests.append(manifest)
            let origin = "plugin \(manifest.name) (\(manifest.path))"
            for component in manifest.components {
                switch component.kind {
                case .layer:
                    try? registerLayer(component.name, summary: component.description, origin: origin,
                                       factory: Self.pluginLayerFactory(manifest: manifest, component: component))
                case .loss:
                    try? registerLoss(component.name, summary: component.description, origin: origin,
                                      factory: Self.pluginLossFactory(manifest: manifest, component: component))
                case .model:
                    try? registerModel(component.name, summary: component.description, origin: origin,
                                       factory: Self.pluginModelFactory(manifest: manifest, component: component))
                case .scheme:
                    try? registerScheme(component.name, summary: component.description, origin: origin,
                                        factory: Self.pluginSchemeFactory(manifest: manifest, component: component))
                case .optimizer:
                    try? registerOptimizer(component.name, summary: component.description, origin: origin,
                                           factory: Self.pluginOptimizerFactory(manifest: manifest, component: component))
                case .callback:
                    try? registerCallback(component.name, summary: component.description, origin: origin,
                                          factory: Self.pluginCallbackFactory(manifest: manifest, component: component))
                }
            }
        }
    }

    /// The options a component's manifest declares, read from `reader` and type-checked (keys
    /// not declared are left for `finish()` to report as unknown); nil after recording a problem.
    static func declaredOptions(_ component: PluginManifest.Component, _ reader: inout ConfigReader) -> JSONObject? {
        var options = JSONObject()
        var ok = true
        for p in component.parameters {
            guard let value = reader.value(p.name) else { continue }
            if PluginManifest.value(value, hasType: p.type) {
                options[p.name] = value
            } else {
                reader.diagnostics.error(at: reader.childPath(p.name), "expected \(p.type == "integer" ? "an" : "a") \(p.type), got \(value.typeDescription)")
                ok = false
            }
        }
        return ok ? options : nil
    }

    /// The loaded plugin, or nil after recording why it cannot be used at the reader's path.
    static func loaded(_ manifest: PluginManifest, _ component: PluginManifest.Component, _ reader: inout ConfigReader) -> LoadedPlugin? {
        do {
            return try PluginHost.load(manifest)
        } catch {
            reader.diagnostics.error(at: reader.path, "\(component.kind) kind \"\(component.name)\" cannot be used: \(error)")
            return nil
        }
    }

    /// What every plugin component factory starts with: the options the manifest declares, the
    /// plugin (loaded on first use) and the ops table it registered for the component, found in
    /// `table` under the component's name; nil after recording why not at the reader's path.
    static func resolve<Ops>(_ manifest: PluginManifest, _ component: PluginManifest.Component, _ noun: String,
                             _ table: (LoadedPlugin) -> [String: Ops], _ reader: inout ConfigReader)
        -> (options: JSONObject, plugin: LoadedPlugin, ops: Ops)? {
        guard let options = declaredOptions(component, &reader), let plugin = loaded(manifest, component, &reader) else { return nil }
        guard let ops = table(plugin)[component.name] else {
            reader.diagnostics.error(at: reader.path, "plugin \(manifest.name) (\(manifest.path)) registered no \(noun) \"\(component.name)\"")
            return nil
        }
        return (options, plugin, ops)
    }

    /// The component's typed constructor and its arguments from the options (none without a
    /// constructor); nil after recording a problem.
    static func constructorArguments(_ plugin: LoadedPlugin, _ kind: PluginManifest.Kind, _ component: PluginManifest.Component,
                                     _ options: JSONObject, _ reader: inout ConfigReader) -> (constructor: PreparedConstructor?, arguments: [JSONValue])? {
        guard let constructor = plugin.constructor(kind, component.name) else { return (nil, []) }
        guard let values = PreparedConstructor.arguments(constructor.declaration, component: component, options: options, reader: &reader) else { return nil }
        return (constructor, values)
    }

    /// Reads the options the manifest declares and loads the plugin on first use; the loss is
    /// created when the run is built.
    static func pluginLossFactory(manifest: PluginManifest, component: PluginManifest.Component) -> LossFactory {
        { reader in
            guard let (options, plugin, ops) = resolve(manifest, component, "loss", \.losses, &reader),
                  let (constructor, arguments) = constructorArguments(plugin, .loss, component, options, &reader) else { return nil }
            let path = reader.path
            return LossSpec(kind: component.name) {
                do {
                    return try PluginLoss(kind: component.name, plugin: plugin, ops: ops, config: options, jsonPath: path,
                                          constructor: constructor, arguments: arguments)
                } catch {
                    throw ComponentBuildError(path: path, message: "\(error)")
                }
            }
        }
    }

    /// Reads the optimizer's options: `lr` (read by the host, never passed to create; the
    /// manifest's default when the recipe has none), `weight_decay` (the default decay of
    /// parameters in no group, also passed to create) and the options the manifest declares.
    /// Loads the plugin on first use; the instance is created when the run makes it.
    static func pluginOptimizerFactory(manifest: PluginManifest, component: PluginManifest.Component) -> OptimizerFactory {
        { reader in
            let lrDefault = component.parameters.first { $0.name == "lr" }?.defaultValue
            var lr = 0.0
            if reader.has("lr") {
                lr = reader.double("lr", default: 0, in: 0...1e6, openLower: true)
            } else if case let .number(d)? = lrDefault, d > 0, d.isFinite {
                lr = d
            } else {
                reader.accept("lr")
                reader.diagnostics.error(at: reader.childPath("lr"), "is required: optimizer \"\(component.name)\" of plugin \(manifest.name) declares no default learning rate")
            }
            guard let (declared, plugin, ops) = resolve(manifest, component, "optimizer", \.optimizers, &reader) else { return nil }
            var options = declared
            options["lr"] = nil
            var decay = 0.0
            if case let .number(d)? = options["weight_decay"] ?? component.parameters.first(where: { $0.name == "weight_decay" })?.defaultValue {
                guard d >= 0, d <= 1e6 else {
                    reader.diagnostics.error(at: reader.childPath("weight_decay"), "\(d) is out of range (at least 0, at most 1e6)")
                    return nil
                }
                decay = d
            }
            let path = reader.path, weightDecay = decay
            return OptimizerSpec(kind: component.name, learningRate: lr, weightDecay: weightDecay) {
                try PluginOptimizer(kind: component.name, plugin: plugin, ops: ops, config: options, learningRate: lr,
                                    weightDecay: Float(weightDecay), jsonPath: path)
            }
        }
    }

    /// Reads the callback's declared options and loads the plugin on first use; the instance is
    /// created when the run makes its callbacks.
    static func pluginCallbackFactory(manifest: PluginManifest, component: PluginManifest.Component) -> CallbackFactory {
        { reader in
            guard let (options, plugin, ops) = resolve(manifest, component, "callback", \.callbacks, &reader) else { return nil }
            let path = reader.path
            return { res in
                try PluginCallback(kind: component.name, plugin: plugin, ops: ops, config: options, jsonPath: path,
                                   model: res.model, graph: res.modelGraph)
            }
        }
    }

    /// Reads the options the manifest declares (type-checked; others are reported as unknown
    /// keys) and loads the plugin on first use; the layer is created when the model is built.
    static func pluginLayerFactory(manifest: PluginManifest, component: PluginManifest.Component) -> LayerFactory {
        { reader, _ in
            guard let (options, plugin, ops) = resolve(manifest, component, "layer", \.layers, &reader),
                  let (constructor, arguments) = constructorArguments(plugin, .layer, component, options, &reader) else { return nil }
            let path = reader.path
            return { _ in
                try PluginLayer(kind: component.name, plugin: plugin, ops: ops, config: options, jsonPath: path,
                                constructor: constructor, arguments: arguments)
            }
        }
    }
}

/// Installs the plugins of a source tree into a plugin folder: for every `SOURCE/*/plugin.json`,
/// finds its library (the manifest's `library` file name) among the built products and writes
/// `INTO/<folder>/plugin.json` with the library's path and SHA-256 filled in. The build scripts
/// run it after `swift build` (`strata plugins install`), so no step is done by hand.
public enum PluginInstaller {
    /// One installed manifest: where it was written and the library it points at.
    public struct Installed: Sendable {
        /// Path of the manifest written.
        public let manifest: String
        /// The library it points at.
        public let library: String
        /// The library's SHA-256, as written into the manifest.
        public let sha256: String
    }

    /// Installs every plugin under `source` whose library is in `libraryDirectory` into `into`.
    /// - Returns: the installed manifests and, for each plugin that could not be installed, why.
    public static func install(source: String, libraryDirectory: String, into: String) -> (installed: [Installed], refusals: [PluginRefusal]) {
        var installed: [Installed] = []
        var refusals: [PluginRefusal] = []
        let fm = FileManager.default
        for path in PluginDiscovery.manifestPaths(in: source) {
            let bytes: [UInt8]
            let json: JSONValue
            let manifest: PluginManifest
            do {
                do {
                    bytes = try RegularFile.read(path, limit: 1 << 20)
                } catch {
                    throw PluginRefusal(manifest: path, reason: "cannot read the manifest: \(error.reason)")
                }
                manifest = try PluginManifest.parse(bytes, path: path)
                json = try JSONParser.parse(bytes)
            } catch let error as PluginRefusal {
                refusals.append(error)
                continue
            } catch {
                refusals.append(PluginRefusal(manifest: path, reason: "\(error)"))
                continue
            }
            let fileName = URL(fileURLWithPath: manifest.library).lastPathComponent
            let library = URL(fileURLWithPath: libraryDirectory).appendingPathComponent(fileName).standardizedFileURL.path
            let digest: String
            do {
                digest = try PluginHost.sha256(file: library)
            } catch {
                refusals.append(PluginRefusal(manifest: path, library: library, reason: "not built: \(error.reason)"))
                continue
            }
            let folderName = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
            let target = URL(fileURLWithPath: into).appendingPathComponent(folderName)
            // Relative to the installed manifest when the library sits two levels up (the default
            // folder next to the binaries), absolute otherwise.
            let libraryParent = URL(fileURLWithPath: library).deletingLastPathComponent().standardizedFileURL.path
            let intoParent = URL(fileURLWithPath: into).standardizedFileURL.deletingLastPathComponent().path
            let written = libraryParent == intoParent ? "../../" + fileName : library
            guard case var .object(object) = json else { continue }
            object["library"] = .string(written)
            object["sha256"] = .string(digest)
            do {
                try fm.createDirectory(at: target, withIntermediateDirectories: true)
                let out = target.appendingPathComponent("plugin.json")
                try Data((JSONValue.object(object).serialized(pretty: true) + "\n").utf8).write(to: out, options: .atomic)
                installed.append(Installed(manifest: out.path, library: library, sha256: digest))
            } catch {
                refusals.append(PluginRefusal(manifest: path, reason: "cannot write \(target.path)/plugin.json: \(error.localizedDescription)"))
            }
        }
        return (installed, refusals)
    }
}
