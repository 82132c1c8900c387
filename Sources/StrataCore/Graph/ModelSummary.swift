/// A per-layer listing of a built model, like fast.ai's `learn.summary()`: each layer's dotted
/// name and kind, its input and output shapes with −1 for the batch, whether its parameters train,
/// and the number of parameters it owns (weights and biases, not buffers such as running
/// statistics; a container's own count is 0, its children are listed below it); then the totals.
public enum ModelSummary {
    public struct Row {
        public let name: String
        public let kind: String
        /// Shapes with the batch dimension written −1.
        public let inputShape: [Int]
        public let outputShape: [Int]
        /// Trainable (weight and bias) elements the layer itself owns.
        public let parameters: Int
        /// nil for a layer without parameters; false when every one is frozen.
        public let trainable: Bool?
        public let depth: Int
    }

    /// Builds `recipe`'s model alone, for one example of `exampleShape` (the data's when nil):
    /// no loss, optimizer or data, and a batch of one, so even a large network costs little.
    public static func model(recipe: Recipe, registry: ComponentRegistry, file: String, exampleShape: [Int]? = nil) throws -> Model {
        guard let spec = recipe.modelSpec else {
            throw RecipeValidationError(file: file, errors: [RecipeError(path: "$.model", message: "is required")])
        }
        let tree = try LayerSpec.buildTree(spec, registry: registry, file: file)
        var context = BuildContext(seed: recipe.seed, defaultInit: recipe.defaultInit)
        return try Model(root: tree.root, exampleShape: exampleShape ?? recipe.data.source.exampleShape, maxBatch: 1,
                         context: &context, jsonPaths: tree.jsonPaths)
    }

    static func unbatched(_ shape: [Int]?) -> [Int] {
        guard let shape, !shape.isEmpty else { return [] }
        return [-1] + shape.dropFirst()
    }

    public static func rows(of model: Model) -> [Row] {
        model.root.namedLayers().map { name, layer in
            let own = layer.parameters.filter(\.isTrainable)
            return Row(name: name.isEmpty ? "(model)" : name, kind: layer.kind,
                       inputShape: unbatched(model.layerInputShapes[name]), outputShape: unbatched(model.layerShapes[name]),
                       parameters: own.reduce(0) { $0 + $1.value.count },
                       trainable: own.isEmpty ? nil : own.contains { !$0.frozen },
                       depth: name.isEmpty ? 0 : name.split(separator: ".").count)
        }
    }

    /// Weight and bias elements of the whole model.
    public static func totalParameters(_ model: Model) -> Int {
        model.trainableParameters.reduce(0) { $0 + $1.parameter.value.count }
    }

    /// Those of them the optimizer updates (not frozen).
    public static func trainableParameters(_ model: Model) -> Int {
        model.trainableParameters.filter { !$0.parameter.frozen }.reduce(0) { $0 + $1.parameter.value.count }
    }

    public static func table(_ rows: [Row], model: Model) -> String {
        let header = ["layer", "kind", "input shape", "output shape", "trainable", "params"]
        let cells = rows.map { r in
            [String(repeating: "  ", count: max(r.depth - 1, 0)) + r.name, r.kind, describe(r.inputShape), describe(r.outputShape),
             r.trainable.map { $0 ? "true" : "false" } ?? "", r.parameters == 0 ? "0" : String(r.parameters)]
        }
        let widths = header.indices.map { i in max(header[i].count, cells.map { $0[i].count }.max() ?? 0) }
        func line(_ c: [String]) -> String {
            c.indices.map { i in i == c.count - 1 ? c[i] : c[i].padding(widths[i]) }.joined(separator: "  ")
        }
        let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        var out = [line(header), rule]
        out += cells.map(line)
        let total = totalParameters(model), trainable = trainableParameters(model)
        let bytes = model.namedParameters.reduce(0) { $0 + $1.parameter.value.count } * 4
        out.append(rule)
        out.append("input \(describe([-1] + model.exampleShape))  output \(describe([-1] + model.outputExampleShape))")
        out.append("total parameters: \(total)")
        out.append("trainable parameters: \(trainable)")
        out.append("non-trainable parameters: \(total - trainable)  (parameters and buffers: \(bytes) bytes)")
        return out.joined(separator: "\n")
    }

    public static func json(_ rows: [Row], model: Model) -> JSONValue {
        func shape(_ s: [Int]) -> JSONValue { .array(s.map { .number(Double($0)) }) }
        let total = totalParameters(model), trainable = trainableParameters(model)
        return .object(JSONObject([
            ("input_shape", shape([-1] + model.exampleShape)),
            ("output_shape", shape([-1] + model.outputExampleShape)),
            ("layers", .array(rows.map { r in
                var members: [(String, JSONValue)] = [("name", .string(r.name)), ("kind", .string(r.kind)),
                                                      ("input_shape", shape(r.inputShape)), ("output_shape", shape(r.outputShape))]
                if let t = r.trainable { members.append(("trainable", .bool(t))) }
                members.append(("parameters", .number(Double(r.parameters))))
                return .object(JSONObject(members))
            })),
            ("total_parameters", .number(Double(total))),
            ("trainable_parameters", .number(Double(trainable))),
            ("non_trainable_parameters", .number(Double(total - trainable))),
        ]))
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
