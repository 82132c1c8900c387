import StrataKit

/// d2l's LeNet-5 (Dive into Deep Learning, section 7.6) for 1x28x28 inputs, as a recipe graph:
/// conv 6@5x5 (padding 2), activation, pool; conv 16@5x5, activation, pool; flatten; linear 120,
/// activation, linear 84, activation, linear `classes`. 61 706 parameters for 10 classes.
///
/// Options: `classes` (default 10), `activation` (`sigmoid`, `relu` or `tanh`; default
/// `sigmoid`), `pooling` (`avg` or `max`; default `avg`).
enum LeNet: KitModelBuilder {
    static func graph(config: KitConfig) throws -> String {
        let classes = try config.int("classes", default: 10)
        guard (1...1_000_000).contains(classes) else { throw KitError.invalidArgument("classes must be between 1 and 1000000, got \(classes)") }
        let activation = try config.string("activation", default: "sigmoid")
        guard ["sigmoid", "relu", "tanh"].contains(activation) else {
            throw KitError.invalidArgument("activation must be \"sigmoid\", \"relu\" or \"tanh\", got \"\(activation)\"")
        }
        let pooling = try config.string("pooling", default: "avg")
        guard pooling == "avg" || pooling == "max" else { throw KitError.invalidArgument("pooling must be \"avg\" or \"max\", got \"\(pooling)\"") }
        let act: KitJSON = .object([("kind", .string(activation))])
        let pool: KitJSON = .object([("kind", .string(pooling == "avg" ? "avgpool2d" : "maxpool2d")), ("kernel_size", 2), ("stride", 2)])
        let layers: [KitJSON] = [
            .object([("kind", "conv2d"), ("out_channels", 6), ("kernel_size", 5), ("padding", 2)]),
            act, pool,
            .object([("kind", "conv2d"), ("out_channels", 16), ("kernel_size", 5)]),
            act, pool,
            .object([("kind", "flatten")]),
            .object([("kind", "linear"), ("out_features", 120)]),
            act,
            .object([("kind", "linear"), ("out_features", 84)]),
            act,
            .object([("kind", "linear"), ("out_features", .int(classes))]),
        ]
        return KitJSON.object([("kind", "sequential"), ("layers", .array(layers))]).serialized()
    }
}

/// The small ResNet of fast.ai's lesson 7 (2019) for 1x28x28 inputs: a 5x5 stem convolution
/// (`conv1`), then for each width w_i a stride-2 conv-relu-batchnorm block (`layers<i>`) and two
/// residual conv-relu-batchnorm blocks (`layers2_<i>`, `layers3_<i>`), then a global max pool,
/// flatten and a linear layer (`out`). 768 670 parameters with the defaults.
///
/// Options: `classes` (default 10), `widths` (default [20, 40, 80, 160]), `stem_channels`
/// (default 10).
enum ResNetSmall: KitModelBuilder {
    static func graph(config: KitConfig) throws -> String {
        let classes = try config.int("classes", default: 10)
        guard (1...1_000_000).contains(classes) else { throw KitError.invalidArgument("classes must be between 1 and 1000000, got \(classes)") }
        let widths = try config.ints("widths", default: [20, 40, 80, 160])
        guard !widths.isEmpty, widths.count <= 16, widths.allSatisfy({ (1...65_536).contains($0) }) else {
            throw KitError.invalidArgument("widths must be 1 to 16 channel counts between 1 and 65536, got \(widths)")
        }
        let stem = try config.int("stem_channels", default: 10)
        guard (1...65_536).contains(stem) else { throw KitError.invalidArgument("stem_channels must be between 1 and 65536, got \(stem)") }

        func convBlock(_ width: Int, stride: Int, name: String?) -> KitJSON {
            var members: [(String, KitJSON)] = [("kind", "sequential"), ("layers", [
                .object([("kind", "conv2d"), ("name", "conv"), ("out_channels", .int(width)), ("kernel_size", 3),
                         ("stride", .int(stride)), ("padding", 1), ("bias", false)]),
                .object([("kind", "relu"), ("name", "relu")]),
                .object([("kind", "batchnorm2d"), ("name", "bn")]),
            ])]
            if let name { members.append(("name", .string(name))) }
            return .object(members)
        }
        var layers: [KitJSON] = [
            .object([("kind", "conv2d"), ("name", "conv1"), ("out_channels", .int(stem)), ("kernel_size", 5), ("padding", 2)]),
        ]
        for (i, width) in widths.enumerated() {
            layers.append(convBlock(width, stride: 2, name: "layers\(i)"))
            for block in 2...3 {
                layers.append(.object([("kind", "residual"), ("name", .string("layers\(block)_\(i)")),
                                       ("body", convBlock(width, stride: 1, name: nil))]))
            }
        }
        layers.append(.object([("kind", "adaptive_maxpool2d"), ("name", "pool"), ("output_size", 1)]))
        layers.append(.object([("kind", "flatten"), ("name", "flatten")]))
        layers.append(.object([("kind", "linear"), ("name", "out"), ("out_features", .int(classes))]))
        return KitJSON.object([("kind", "sequential"), ("layers", .array(layers))]).serialized()
    }
}
