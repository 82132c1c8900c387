extension ModelBuilder {
    /// `value` with every model-builder object (`{"kind": "resnet_small"}`) replaced by the graph
    /// its builder returns, recursively, keeping the object's `name`: the graph a model is really
    /// built from, which a training scheme reads to split a model into parts (`model_graph` of
    /// the "strata.train" interface) and which checkpoints record. Nil after recording why.
    public func expanded(_ value: JSONValue, path: String) -> JSONValue? {
        switch value {
        case let .object(o):
            if case let .string(kind)? = o["kind"], registry.layers[kind] == nil, let model = registry.models[kind] {
                var reader = ConfigReader(value, path: path, diagnostics: diagnostics)
                reader.accept("kind")
                reader.accept("name")
                let graph = model.factory(&reader)
                reader.finish()
                guard let graph, case var .object(inner)? = expanded(graph, path: path) else { return nil }
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
}
