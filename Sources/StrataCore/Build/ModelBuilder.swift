/// Reads a recipe's model object into a tree of `LayerSpec`s, remembering each layer's JSON path
/// for messages. Reading validates every option and constructs nothing; a model-builder kind
/// (`{"kind": "resnet_small"}`) is asked for its graph only when the spec is built. Nesting deeper
/// than `maxDepth` is refused (a recipe cannot exhaust the stack).
public final class ModelBuilder {
    public let registry: ComponentRegistry
    public let diagnostics: Diagnostics
    public static let maxDepth = 64
    private var depth = 0

    public init(registry: ComponentRegistry, diagnostics: Diagnostics) {
        self.registry = registry
        self.diagnostics = diagnostics
    }

    /// The spec of the layer described by `value` at `path` (e.g. `$.model.layers[2]`), or nil
    /// after recording why.
    public func layer(_ value: JSONValue, path: String) -> LayerSpec? {
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
                // "" is allowed: a layer without a name level, whose children's names join its parent's.
                if s.contains(".") { diagnostics.error(at: path + ".name", "a layer name must contain no '.'") }
            } else if name != .null {
                diagnostics.error(at: path + ".name", "expected a string, got \(name.typeDescription)")
            }
        }
        let construct = entry.factory(&reader, self)
        reader.finish()
        return construct.map { LayerSpec(kind: entry.kind, jsonPath: path, construct: $0) }
    }

    /// A model builder's object: its options are read now; its graph is asked for, read and built
    /// when the spec is built. Problems in the graph are reported at `path`, naming the builder,
    /// its origin and the place in the graph.
    private func modelLayer(_ model: ComponentRegistry.Entry<ComponentRegistry.ModelFactory>, _ reader: inout ConfigReader,
                            path: String) -> LayerSpec? {
        guard let graph = modelGraph(model, &reader) else { return nil }
        let registry = self.registry, depth = self.depth
        let origin = "model \"\(model.kind)\" of \(model.origin)"
        return LayerSpec(kind: model.kind, jsonPath: path) { build in
            let inner = ModelBuilder(registry: registry, diagnostics: Diagnostics())
            inner.depth = depth
            let spec = inner.layer(try graph(), path: "$")
            var innerBuild = LayerBuild(registry: registry)
            var layer: (any Layer)?
            if let spec, inner.diagnostics.isEmpty { layer = try? spec.build(&innerBuild) }
            for e in inner.diagnostics.errors + innerBuild.diagnostics.errors {
                build.diagnostics.error(at: path, "\(origin) returned a graph that cannot be built: \(e.path): \(e.message)")
            }
            guard let layer, build.diagnostics.isEmpty else { throw LayerBuild.Failed() }
            for (id, graphPath) in innerBuild.jsonPaths { build.jsonPaths[id] = "\(path) (\(origin), graph \(graphPath))" }
            return layer
        }
    }

    /// Reads a model builder's object (`kind`, `name` and the options the builder declares) and
    /// returns how to ask the builder for its graph; nil after recording a problem.
    private func modelGraph(_ model: ComponentRegistry.Entry<ComponentRegistry.ModelFactory>,
                            _ reader: inout ConfigReader) -> (() throws -> JSONValue)? {
        reader.accept("kind")
        reader.accept("name")
        if let name = reader.object["name"], name != .null {
            if case let .string(s) = name, !s.isEmpty, !s.contains(".") {} else {
                diagnostics.error(at: reader.childPath("name"), "a layer name must be a non-empty string without '.'")
            }
        }
        let graph = model.factory(&reader)
        reader.finish()
        return graph
    }

    /// `value` with every model-builder object replaced by the graph its builder returns,
    /// recursively, keeping the object's `name`: the graph a model is really built from, which a
    /// training scheme reads to split a model into parts (`model_graph` of the "strata.train"
    /// interface) and which checkpoints record. Asks the builders, so it belongs to building, not
    /// reading. Nil after recording why.
    public func expanded(_ value: JSONValue, path: String) -> JSONValue? {
        switch value {
        case let .object(o):
            if case let .string(kind)? = o["kind"], registry.layers[kind] == nil, let model = registry.models[kind] {
                var reader = ConfigReader(value, path: path, diagnostics: diagnostics)
                guard let graph = modelGraph(model, &reader) else { return nil }
                let made: JSONValue
                do {
                    made = try graph()
                } catch {
                    diagnostics.error(at: path, "\(error)")
                    return nil
                }
                guard case var .object(inner)? = expanded(made, path: path) else { return nil }
                if let name = o["name"] { inner["name"] = name }
                return .object(inner)
            }
            var out = JSONObject()
            for (key, member) in o {
                guard let e = expanded(member, path: path + "." + key) else { return nil }
                out[key] = e
            }
            return .object(out)
        case let .array(items):
            var out: [JSONValue] = []
            for (i, item) in items.enumerated() {
                guard let e = expanded(item, path: "\(path)[\(i)]") else { return nil }
                out.append(e)
            }
            return .array(out)
        default:
            return value
        }
    }

    /// Reads and builds `value` in one step (for tools and tests that hold a graph, not a recipe);
    /// throws `RecipeValidationError` naming `file` with every problem.
    public func build(_ value: JSONValue, path: String, file: String = "graph") throws -> any Layer {
        guard let spec = layer(value, path: path), diagnostics.isEmpty else {
            throw RecipeValidationError(file: file, errors: diagnostics.errors)
        }
        return try LayerSpec.buildTree(spec, registry: registry, file: file).root
    }

    /// The layer's recipe name, if it has one.
    public static func name(of value: JSONValue) -> String? {
        if case let .object(o) = value, case let .string(s)? = o["name"] { return s }
        return nil
    }
}
