/// Every component a recipe can name, by kind: the built-ins and, later, those registered by
/// plugins. A kind is registered once; a second registration of the same kind is refused.
public final class ComponentRegistry {
    /// Builds a layer from its recipe object. Problems go to the reader's diagnostics; nil when it
    /// cannot be built.
    public typealias LayerFactory = (inout ConfigReader, ModelBuilder) -> (any Layer)?

    public struct LayerEntry {
        public let kind: String
        public let summary: String
        /// "built-in", or the plugin that provides it.
        public let origin: String
        public let factory: LayerFactory
    }

    public private(set) var layers: [String: LayerEntry] = [:]

    public init() {}

    /// Registers a layer kind; throws if the kind exists already.
    public func registerLayer(_ kind: String, summary: String, origin: String = "built-in", factory: @escaping LayerFactory) throws {
        if let existing = layers[kind] {
            throw StrataError.badInput("layer kind \"\(kind)\" from \(origin) is already provided by \(existing.origin)")
        }
        layers[kind] = LayerEntry(kind: kind, summary: summary, origin: origin, factory: factory)
    }

    /// A registry holding the core's layers.
    public static func builtIn() -> ComponentRegistry {
        let r = ComponentRegistry()
        BuiltinLayers.register(into: r)
        return r
    }
}

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
        guard let kind = reader.string("kind") else {
            if !reader.has("kind") { diagnostics.error(at: path + ".kind", "is required (the layer kind, e.g. \"conv2d\")") }
            return nil
        }
        guard let entry = registry.layers[kind] else {
            let known = registry.layers.keys.sorted().joined(separator: ", ")
            diagnostics.error(at: path + ".kind", "unknown layer kind \"\(kind)\"; known kinds: \(known)")
            return nil
        }
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

    /// The layer's recipe name, if it has one.
    public static func name(of value: JSONValue) -> String? {
        if case let .object(o) = value, case let .string(s)? = o["name"] { return s }
        return nil
    }
}
