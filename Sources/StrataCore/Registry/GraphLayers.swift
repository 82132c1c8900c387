/// The multi-branch containers' recipe forms (docs/recipes.md, "Multi-branch containers"):
/// `graph` (the general form), `concat` (Inception's parallel branches), `dense_concat`
/// (DenseNet's dense block) and `adaptive_concat_pool2d` (fast.ai's head). Every one builds a
/// `LayerGraph`.
enum GraphLayers {
    static let maxNodes = 10_000

    static func register(_ add: (String, String, @escaping ComponentRegistry.LayerFactory) -> Void) {
        add("graph", "a DAG of named nodes; each reads the input or earlier nodes, combined by concat (channels) or add") { c, b in
            readGraph(&c, b)
        }
        add("concat", "parallel branches on the same input, outputs concatenated along channels (Inception)") { c, b in
            guard let branches = children(&c, b, key: "branches") else { return nil }
            return { build in
                let layers = try branches.map { ($0.name, try $0.spec.build(&build)) }
                let nodes = layers.map { LayerGraph.Node(name: $0.0, layer: $0.1, inputs: [0]) }
                return LayerGraph(kind: "concat", nodes: nodes, outputInputs: Array(1...nodes.count), outputCombine: .concat)
            }
        }
        add("dense_concat", "DenseNet block: layer i reads the channel concatenation of the input and every earlier output; the output concatenates all") { c, b in
            guard let layers = children(&c, b, key: "layers") else { return nil }
            return { build in
                let built = try layers.map { ($0.name, try $0.spec.build(&build)) }
                let nodes = built.enumerated().map { i, l in LayerGraph.Node(name: l.0, layer: l.1, inputs: Array(0...i)) }
                return LayerGraph(kind: "dense_concat", nodes: nodes, outputInputs: Array(0...nodes.count), outputCombine: .concat)
            }
        }
        add("adaptive_concat_pool2d", "fast.ai's AdaptiveConcatPool2d: adaptive max pool and adaptive average pool, concatenated along channels (max first)") { c, _ in
            let size = c.pair("output_size", default: (1, 1), in: 1...BuiltinLayers.maxKernel)!
            return { _ in
                LayerGraph(kind: "adaptive_concat_pool2d",
                           nodes: [.init(name: "mp", layer: AdaptivePool2d(.max, outputSize: size), inputs: [0]),
                                   .init(name: "ap", layer: AdaptivePool2d(.average, outputSize: size), inputs: [0])],
                           outputInputs: [1, 2], outputCombine: .concat)
            }
        }
    }

    /// The child specs in the array at `key`, named by their `name` or index; nil after an error.
    static func children(_ c: inout ConfigReader, _ b: ModelBuilder, key: String) -> [(name: String, spec: LayerSpec)]? {
        guard let items = c.array(key, maxCount: maxNodes, required: true) else { return nil }
        guard !items.isEmpty else {
            c.diagnostics.error(at: c.childPath(key), "expected a non-empty array of layers")
            return nil
        }
        var result: [(name: String, spec: LayerSpec)] = []
        var names = Set<String>()
        for (i, item) in items.enumerated() {
            let p = c.childPath(key) + "[\(i)]"
            let name = ModelBuilder.name(of: item) ?? String(i)
            if !names.insert(name).inserted { c.diagnostics.error(at: p + ".name", "duplicate layer name \"\(name)\"") }
            if let spec = b.layer(item, path: p) { result.append((name, spec)) }
        }
        return result.count == items.count ? result : nil
    }

    /// `{"kind": "graph", "nodes": [{"name", "inputs", "combine", "layer"}], "output": {"inputs", "combine"}}`.
    /// A node's `inputs` name `"input"` or earlier nodes (default: the previous node, or the input
    /// for the first); `combine` is `concat` (default) or `add`. `output` defaults to the last node.
    static func readGraph(_ c: inout ConfigReader, _ b: ModelBuilder) -> LayerSpec.Construct? {
        guard let items = c.array("nodes", maxCount: maxNodes, required: true) else { return nil }
        guard !items.isEmpty else {
            c.diagnostics.error(at: c.childPath("nodes"), "expected a non-empty array of nodes")
            return nil
        }
        var index: [String: Int] = ["input": 0]
        var specs: [(name: String, spec: LayerSpec?, inputs: [Int], combine: LayerGraph.Combine)] = []
        var ok = true
        for (i, item) in items.enumerated() {
            let p = c.childPath("nodes") + "[\(i)]"
            guard case .object = item else {
                c.diagnostics.error(at: p, "expected a node object, got \(item.typeDescription)")
                ok = false
                specs.append((String(i), nil, [], .concat))
                continue
            }
            var node = ConfigReader(item, path: p, diagnostics: c.diagnostics)
            let name = node.string("name") ?? String(i)
            if name.isEmpty || name.contains(".") || name == "input" {
                c.diagnostics.error(at: p + ".name", "a node name must be non-empty, contain no '.' and not be \"input\"")
                ok = false
            } else if index[name] != nil {
                c.diagnostics.error(at: p + ".name", "duplicate node name \"\(name)\"")
                ok = false
            }
            let inputs = readInputs(&node, index: index, default: [i == 0 ? "input" : specs[i - 1].name])
            let combine = LayerGraph.Combine(rawValue: node.choice("combine", ["concat", "add"], default: "concat"))!
            var spec: LayerSpec?
            if let layer = node.required("layer") { spec = b.layer(layer, path: p + ".layer") }
            node.finish()
            if inputs == nil || spec == nil { ok = false }
            index[name] = i + 1
            specs.append((name, spec, inputs ?? [], combine))
        }
        var outputInputs = [items.count]
        var outputCombine = LayerGraph.Combine.concat
        if let outValue = c.value("output") {
            if case .object = outValue {} else { ok = false }
            var out = ConfigReader(outValue, path: c.childPath("output"), diagnostics: c.diagnostics)
            if let read = readInputs(&out, index: index, default: [specs.last?.name ?? "input"]) { outputInputs = read } else { ok = false }
            outputCombine = LayerGraph.Combine(rawValue: out.choice("combine", ["concat", "add"], default: "concat"))!
            out.finish()
        }
        guard ok else { return nil }
        let nodes = specs
        return { build in
            let built = try nodes.map { LayerGraph.Node(name: $0.name, layer: try $0.spec!.build(&build), inputs: $0.inputs, combine: $0.combine) }
            return LayerGraph(kind: "graph", nodes: built, outputInputs: outputInputs, outputCombine: outputCombine)
        }
    }

    /// The `inputs` array of a node or the output as value numbers; names must be earlier nodes.
    static func readInputs(_ r: inout ConfigReader, index: [String: Int], default def: [String]) -> [Int]? {
        guard let items = r.array("inputs", maxCount: maxNodes) else {
            return r.has("inputs") ? nil : def.compactMap { index[$0] }
        }
        guard !items.isEmpty else {
            r.diagnostics.error(at: r.childPath("inputs"), "expected a non-empty array of node names")
            return nil
        }
        var result: [Int] = []
        for (i, item) in items.enumerated() {
            guard case let .string(s) = item else {
                r.diagnostics.error(at: r.childPath("inputs") + "[\(i)]", "expected a node name, got \(item.typeDescription)")
                return nil
            }
            guard let v = index[s] else {
                r.diagnostics.error(at: r.childPath("inputs") + "[\(i)]", "\"\(s)\" is not \"input\" or an earlier node")
                return nil
            }
            result.append(v)
        }
        return result
    }
}
