/// Every component a recipe can name, by kind: layers, optimizers, losses and callbacks — the
/// built-ins and, later, those registered by plugins. A (category, kind) pair is registered once;
/// a second registration of the same kind is refused with both origins named.
public final class ComponentRegistry {
    /// Builds a layer from its recipe object. Problems go to the reader's diagnostics; nil when it
    /// cannot be built.
    public typealias LayerFactory = (inout ConfigReader, ModelBuilder) -> (any Layer)?
    /// Builds an optimizer from its recipe object (`$.optimizer`).
    public typealias OptimizerFactory = (inout ConfigReader) -> OptimizerSpec?
    /// Builds a loss from its recipe object (`$.loss`).
    public typealias LossFactory = (inout ConfigReader) -> (any Loss)?
    /// Reads a callback's recipe object (`$.callbacks[i]`) and returns how to make it for a run.
    public typealias CallbackFactory = (inout ConfigReader) -> ((RunResources) throws -> (any Callback)?)?
    /// Turns a model builder's recipe object (options besides `kind` and `name`) into a model
    /// graph in the recipe's layer format, which `ModelBuilder` then builds; nil after recording why.
    public typealias ModelFactory = (inout ConfigReader) -> JSONValue?
    /// Reads a training scheme's recipe object (`$.scheme`) and creates the scheme instance.
    public typealias SchemeFactory = (inout ConfigReader) -> SchemeSpec?

    public struct Entry<Factory> {
        public let kind: String
        public let summary: String
        /// "built-in", or the plugin that provides it.
        public let origin: String
        public let factory: Factory
    }

    public private(set) var layers: [String: Entry<LayerFactory>] = [:]
    public private(set) var optimizers: [String: Entry<OptimizerFactory>] = [:]
    public private(set) var losses: [String: Entry<LossFactory>] = [:]
    public private(set) var callbacks: [String: Entry<CallbackFactory>] = [:]
    /// Model builders: kinds a recipe's model object (or any layer object) may name, answered
    /// with a graph of layers.
    public private(set) var models: [String: Entry<ModelFactory>] = [:]
    /// Training schemes a recipe's "scheme" object may name: "fit" (end to end) and plugins'.
    public private(set) var schemes: [String: Entry<SchemeFactory>] = [:]
    /// What plugin discovery found and refused (empty for `builtIn()`; see `withPlugins`).
    public internal(set) var pluginDiscovery = PluginDiscovery.Result()

    public init() {}

    private static func add<F>(_ table: inout [String: Entry<F>], _ category: String, _ kind: String, _ summary: String,
                               _ origin: String, _ factory: F) throws {
        if let existing = table[kind] {
            throw StrataError.badInput("\(category) kind \"\(kind)\" from \(origin) is already provided by \(existing.origin)")
        }
        table[kind] = Entry(kind: kind, summary: summary, origin: origin, factory: factory)
    }

    public func registerLayer(_ kind: String, summary: String, origin: String = "built-in", factory: @escaping LayerFactory) throws {
        try Self.add(&layers, "layer", kind, summary, origin, factory)
    }

    public func registerOptimizer(_ kind: String, summary: String, origin: String = "built-in", factory: @escaping OptimizerFactory) throws {
        try Self.add(&optimizers, "optimizer", kind, summary, origin, factory)
    }

    public func registerLoss(_ kind: String, summary: String, origin: String = "built-in", factory: @escaping LossFactory) throws {
        try Self.add(&losses, "loss", kind, summary, origin, factory)
    }

    public func registerCallback(_ kind: String, summary: String, origin: String = "built-in", factory: @escaping CallbackFactory) throws {
        try Self.add(&callbacks, "callback", kind, summary, origin, factory)
    }

    /// Registers a model builder. A layer kind of the same name wins over it.
    public func registerModel(_ kind: String, summary: String, origin: String = "built-in", factory: @escaping ModelFactory) throws {
        try Self.add(&models, "model", kind, summary, origin, factory)
    }

    public func registerScheme(_ kind: String, summary: String, origin: String = "built-in", factory: @escaping SchemeFactory) throws {
        try Self.add(&schemes, "scheme", kind, summary, origin, factory)
    }

    /// A registry holding the core's components.
    public static func builtIn() -> ComponentRegistry {
        let r = ComponentRegistry()
        BuiltinLayers.register(into: r)
        BuiltinComponents.register(into: r)
        registerFitScheme(into: r)
        return r
    }

    /// Reads `kind` from a component object and looks it up, recording an error naming the known kinds.
    func entry<F>(_ table: [String: Entry<F>], _ reader: inout ConfigReader, category: String) -> Entry<F>? {
        guard let kind = reader.string("kind") else {
            if !reader.has("kind") {
                reader.diagnostics.error(at: reader.childPath("kind"), "is required: one of \(table.keys.sorted().joined(separator: ", "))")
            }
            return nil
        }
        guard let e = table[kind] else {
            // Model builders stand where a layer does, so a layer kind may also be a builder's.
            let known = (category == "layer" ? Array(table.keys) + Array(models.keys) : Array(table.keys)).sorted()
            reader.diagnostics.error(at: reader.childPath("kind"),
                                     "unknown \(category) kind \"\(kind)\"; known kinds: \(known.joined(separator: ", "))"
                                     + (category == "layer" || category == "loss"
                                        ? "; kinds from plugins need them installed (`strata plugins` lists them)" : ""))
            return nil
        }
        return e
    }
}

/// An optimizer as a recipe describes it: how to create it, and its default weight decay.
public struct OptimizerSpec {
    public let kind: String
    public let learningRate: Double
    public let weightDecay: Double
    /// Creates the optimizer; a plugin optimizer's `create` may refuse the options.
    public let make: () throws -> any Optimizer
}

/// What a callback may need from the run that creates it.
public struct RunResources {
    public let runDirectory: URLPath?
    public let checkpointer: Checkpointer
}

/// A file-system path (kept as a string so the registry does not depend on Foundation).
public typealias URLPath = String

/// Builds a layer tree from a recipe's model object, remembering each layer's JSON path for
/// messages. Nesting deeper than `maxDepth` is refused (a recipe cannot exhaust the stack).
public final class ModelBuilder {
    public let registry: ComponentRegistry
    public let diagnostics: Diagnostics
    public static let maxDepth = 64
    private(set) var jsonPaths: [ObjectIdentifier: String] = [:]
    private var depth = 0

    public init(registry: ComponentRegistry, diagnostics: Diagnostics) {
        self.registry = registry
        self.diagnostics = diagnostics
    }

    /// The layer described by `value` at `path` (e.g. `$.model.layers[2]`), or nil after recording why.
    public func layer(_ value: JSONValue, path: String) -> (any Layer)? {
        guard depth < ModelBuilder.maxDepth else {
            diagnostics.error(at: path, "layers nested deeper than \(ModelBuilder.maxDepth) levels")
            return nil
        }
        depth += 1
        defer { depth -= 1 }
        var reader = ConfigReader(value, path: path, diagnostics: diagnostics)
        guard case .object = value else { return nil }
        if case let .string(kind)? = reader.object["kind"], registry.layers[kind] == nil, let model = registry.models[kind] {
            return modelLayer(model, &reader, path: path)
        }
        guard let entry = registry.entry(registry.layers, &reader, category: "layer") else { return nil }
        reader.accept("name")
        if let name = reader.object["name"] {
            if case let .string(s) = name {
                if s.isEmpty || s.contains(".") { diagnostics.error(at: path + ".name", "a layer name must be non-empty and contain no '.'") }
            } else if name != .null {
                diagnostics.error(at: path + ".name", "expected a string, got \(name.typeDescription)")
            }
        }
        let layer = entry.factory(&reader, self)
        reader.finish()
        if let layer { jsonPaths[ObjectIdentifier(layer)] = path }
        return layer
    }

    /// The layer built from the graph a model builder returns for `reader`'s object. Problems in
    /// the graph are reported at `path`, naming the builder, its origin and the place in the graph.
    private func modelLayer(_ model: ComponentRegistry.Entry<ComponentRegistry.ModelFactory>, _ reader: inout ConfigReader,
                            path: String) -> (any Layer)? {
        reader.accept("kind")
        reader.accept("name")
        if let name = reader.object["name"], name != .null {
            if case let .string(s) = name, !s.isEmpty, !s.contains(".") {} else {
                diagnostics.error(at: path + ".name", "a layer name must be a non-empty string without '.'")
            }
        }
        let graph = model.factory(&reader)
        reader.finish()
        guard let graph else { return nil }
        let origin = "model \"\(model.kind)\" of \(model.origin)"
        let inner = ModelBuilder(registry: registry, diagnostics: Diagnostics())
        inner.depth = depth
        let layer = inner.layer(graph, path: "$")
        for e in inner.diagnostics.errors {
            diagnostics.error(at: path, "\(origin) returned a graph that cannot be built: \(e.path): \(e.message)")
        }
        guard let layer, inner.diagnostics.isEmpty else { return nil }
        for (id, graphPath) in inner.jsonPaths { jsonPaths[id] = "\(path) (\(origin), graph \(graphPath))" }
        jsonPaths[ObjectIdentifier(layer)] = path
        return layer
    }

    /// The layer's recipe name, if it has one.
    public static func name(of value: JSONValue) -> String? {
        if case let .object(o) = value, case let .string(s)? = o["name"] { return s }
        return nil
    }
}
