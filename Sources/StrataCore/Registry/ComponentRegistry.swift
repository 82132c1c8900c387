/// Every component a recipe can name, by kind: layers, optimizers, losses and callbacks — the
/// built-ins and, later, those registered by plugins. A (category, kind) pair is registered once;
/// a second registration of the same kind is refused with both origins named.
public final class ComponentRegistry {
    /// Reads a layer's recipe object and returns how to construct the layer (nothing is constructed
    /// while reading). Problems go to the reader's diagnostics; nil when it cannot be built.
    public typealias LayerFactory = (inout ConfigReader, ModelBuilder) -> LayerSpec.Construct?
    /// Reads an optimizer's recipe object (`$.optimizer`) and returns how to create it.
    public typealias OptimizerFactory = (inout ConfigReader) -> OptimizerSpec?
    /// Reads a loss's recipe object (`$.loss`) and returns how to create it.
    public typealias LossFactory = (inout ConfigReader) -> LossSpec?
    /// Reads a callback's recipe object (`$.callbacks[i]`) and returns how to make it for a run.
    public typealias CallbackFactory = (inout ConfigReader) -> ((RunResources) throws -> (any Callback)?)?
    /// Reads a model builder's recipe object (options besides `kind` and `name`) and returns how to
    /// ask the builder for its model graph in the recipe's layer format, which `ModelBuilder` then
    /// reads and builds; nil after recording why.
    public typealias ModelFactory = (inout ConfigReader) -> (() throws -> JSONValue)?
    /// Reads a training scheme's recipe object (`$.scheme`) and returns how to create the scheme.
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
            throw CoreError.badInput("\(category) kind \"\(kind)\" from \(origin) is already provided by \(existing.origin)")
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

    public init(kind: String, learningRate: Double, weightDecay: Double, make: @escaping () throws -> any Optimizer) {
        self.kind = kind
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.make = make
    }
}

/// A loss as a recipe describes it: its kind and how to create it.
public struct LossSpec {
    public let kind: String
    public let make: () throws -> any Loss

    public init(kind: String, make: @escaping () throws -> any Loss) {
        self.kind = kind
        self.make = make
    }
}

/// What a callback may need from the run that creates it.
public struct RunResources {
    /// The run directory and its layout; nil when the run writes nothing.
    public let runDirectory: RunDirectory?
    public let checkpointer: Checkpointer
    /// The model the run trains (callbacks that hook its layers); nil in runs of plugin schemes,
    /// which train models of their own.
    public let model: Model?
    /// The model's graph in the recipe's layer format, builders expanded (`model_graph`).
    public var modelGraph: String = ""
}

/// A file-system path (kept as a string so the registry does not depend on Foundation).
public typealias URLPath = String
