/// A per-layer listing of a built model, like fast.ai's `learn.summary()`: dotted name, kind,
/// output shape (with the planned batch) and the number of trainable parameters the layer owns.
public enum ModelSummary {
    public struct Row {
        public let name: String
        public let kind: String
        public let outputShape: [Int]
        public let parameters: Int
        public let depth: Int
    }

    public static func rows(of model: Model) -> [Row] {
        model.root.namedLayers().map { name, layer in
            Row(name: name.isEmpty ? "(model)" : name, kind: layer.kind, outputShape: model.layerShapes[name] ?? [],
                parameters: layer.parameters.filter(\.isTrainable).reduce(0) { $0 + $1.value.count },
                depth: name.isEmpty ? 0 : name.split(separator: ".").count)
        }
    }

    public static func totalParameters(_ model: Model) -> Int {
        model.trainableParameters.reduce(0) { $0 + $1.parameter.value.count }
    }

    public static func table(_ rows: [Row], model: Model) -> String {
        let header = ("layer", "kind", "output shape", "params")
        let cells = rows.map { (String(repeating: "  ", count: max($0.depth - 1, 0)) + $0.name, $0.kind,
                                describe($0.outputShape), $0.parameters == 0 ? "" : String($0.parameters)) }
        let w0 = max(header.0.count, cells.map(\.0.count).max() ?? 0)
        let w1 = max(header.1.count, cells.map(\.1.count).max() ?? 0)
        let w2 = max(header.2.count, cells.map(\.2.count).max() ?? 0)
        func line(_ c: (String, String, String, String)) -> String {
            c.0.padding(w0) + "  " + c.1.padding(w1) + "  " + c.2.padding(w2) + "  " + c.3
        }
        var out = [line(header), String(repeating: "-", count: w0 + w1 + w2 + 14)]
        out += cells.map(line)
        let total = totalParameters(model)
        let bytes = model.namedParameters.reduce(0) { $0 + $1.parameter.value.count } * 4
        out.append(String(repeating: "-", count: w0 + w1 + w2 + 14))
        out.append("input \(describe([model.maxBatch] + model.exampleShape))  output \(describe([model.maxBatch] + model.outputExampleShape))")
        out.append("trainable parameters: \(total)  (parameters and buffers: \(bytes) bytes)")
        return out.joined(separator: "\n")
    }

    public static func json(_ rows: [Row], model: Model) -> JSONValue {
        .object(JSONObject([
            ("input_shape", .array(([model.maxBatch] + model.exampleShape).map { .number(Double($0)) })),
            ("layers", .array(rows.map { r in
                .object(JSONObject([("name", .string(r.name)), ("kind", .string(r.kind)),
                                    ("output_shape", .array(r.outputShape.map { .number(Double($0)) })),
                                    ("parameters", .number(Double(r.parameters)))]))
            })),
            ("total_parameters", .number(Double(totalParameters(model)))),
        ]))
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
