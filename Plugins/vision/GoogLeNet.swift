import StrataKit

/// GoogLeNet (Szegedy et al., 2015) as a recipe graph, in two variants:
///
/// - `d2l` (default): Dive into Deep Learning's version (section 8.4), as its PyTorch code
///   writes it: no batch norm, no auxiliary classifiers, `input_channels` 1 and 10 classes by
///   default, five stages `b1`…`b5` then a linear layer, parameters named as d2l's
///   `nn.Sequential` names them (`2.0.p1_1.weight` is stage b3's first Inception's 1×1 branch).
///   Trained on 96×96 Fashion-MNIST in the book.
/// - `torchvision`: torchvision's `googlenet(aux_logits=False, init_weights=True)`: every
///   convolution without bias and followed by batch norm (eps 0.001) and ReLU, max pools with
///   `ceil_mode`, the 3×3 convolution in the third branch (torchvision's known departure from the
///   paper's 5×5), dropout 0.2 before `fc`; parameter names as torchvision's state dict
///   (`inception3a.branch2.1.conv.weight`), 3 input channels and 1000 classes by default.
///   6 624 904 parameters at 1000 classes.
///
/// `width` (default 1) multiplies every convolution's channels (rounded, at least 1), for small
/// versions of either variant. `dropout` (torchvision's 0.2) is the probability of the dropout
/// before `fc` in the torchvision variant (0 for a deterministic training pass).
///
/// Each Inception block is a `graph` whose nodes carry the module names, with the output the
/// channel concatenation of its four branches.
enum GoogLeNet: KitModelBuilder {
    /// (c1, (c2 reduce, c2), (c3 reduce, c3), c4) of each Inception block, in order.
    typealias Widths = (Int, (Int, Int), (Int, Int), Int)
    static let stage3: [Widths] = [(64, (96, 128), (16, 32), 32), (128, (128, 192), (32, 96), 64)]
    static let stage4: [Widths] = [(192, (96, 208), (16, 48), 64), (160, (112, 224), (24, 64), 64), (128, (128, 256), (24, 64), 64),
                                   (112, (144, 288), (32, 64), 64), (256, (160, 320), (32, 128), 128)]
    static let stage5: [Widths] = [(256, (160, 320), (32, 128), 128), (384, (192, 384), (48, 128), 128)]

    static func graph(config: KitConfig) throws -> String {
        let variant = try config.string("variant", default: "d2l")
        guard variant == "d2l" || variant == "torchvision" else {
            throw KitError.invalidArgument("variant must be \"d2l\" or \"torchvision\", got \"\(variant)\"")
        }
        let d2l = variant == "d2l"
        let classes = try config.int("classes", default: d2l ? 10 : 1000)
        guard (1...1_000_000).contains(classes) else { throw KitError.invalidArgument("classes must be between 1 and 1000000, got \(classes)") }
        let width = try config.double("width", default: 1)
        guard width > 0, width <= 16 else { throw KitError.invalidArgument("width must be greater than 0 and at most 16, got \(width)") }
        let dropout = try config.double("dropout", default: 0.2)
        guard (0..<1).contains(dropout) else { throw KitError.invalidArgument("dropout must be at least 0 and below 1, got \(dropout)") }
        let scaled = Scale(width: width)
        return (d2l ? d2lNet(classes: classes, scaled) : torchvisionNet(classes: classes, scaled, dropout: dropout)).serialized()
    }

    /// Channels times the width multiplier, rounded, at least 1.
    struct Scale {
        let width: Double
        func callAsFunction(_ c: Int) -> Int { max(1, Int((Double(c) * width).rounded())) }
        func callAsFunction(_ w: Widths) -> Widths {
            (self(w.0), (self(w.1.0), self(w.1.1)), (self(w.2.0), self(w.2.1)), self(w.3))
        }
    }

    // MARK: JSON pieces

    static func conv(_ name: String?, _ out: Int, _ k: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) -> KitJSON {
        var m: [(String, KitJSON)] = [("kind", "conv2d"), ("out_channels", .int(out)), ("kernel_size", .int(k))]
        if stride != 1 { m.append(("stride", .int(stride))) }
        if padding != 0 { m.append(("padding", .int(padding))) }
        if !bias { m.append(("bias", false)) }
        if let name { m.append(("name", .string(name))) }
        return .object(m)
    }

    static func maxpool(_ name: String?, _ k: Int, _ s: Int, padding: Int = 0, ceil: Bool = false) -> KitJSON {
        var m: [(String, KitJSON)] = [("kind", "maxpool2d"), ("kernel_size", .int(k)), ("stride", .int(s))]
        if padding != 0 { m.append(("padding", .int(padding))) }
        if ceil { m.append(("ceil_mode", true)) }
        if let name { m.append(("name", .string(name))) }
        return .object(m)
    }

    static func layer(_ kind: String, _ name: String? = nil) -> KitJSON {
        .object([("kind", .string(kind))] + (name.map { [("name", KitJSON.string($0))] } ?? []))
    }

    static func sequential(_ name: String?, _ layers: [KitJSON]) -> KitJSON {
        .object([("kind", "sequential"), ("layers", .array(layers))] + (name.map { [("name", KitJSON.string($0))] } ?? []))
    }

    static func node(_ name: String, _ input: String, _ layer: KitJSON) -> KitJSON {
        .object([("name", .string(name)), ("inputs", .array([.string(input)])), ("layer", layer)])
    }

    static func concatGraph(_ name: String?, nodes: [KitJSON], outputs: [String]) -> KitJSON {
        var m: [(String, KitJSON)] = [("kind", "graph"), ("nodes", .array(nodes)),
                                      ("output", .object([("inputs", .array(outputs.map { .string($0) })), ("combine", "concat")]))]
        if let name { m.append(("name", .string(name))) }
        return .object(m)
    }

    // MARK: d2l

    /// d2l's Inception: p1_1; p2_1, p2_2; p3_1, p3_2; p4_1 (max pool), p4_2; ReLU after each conv.
    static func d2lInception(_ name: String, _ w: Widths) -> KitJSON {
        let nodes: [KitJSON] = [
            node("p1_1", "input", conv(nil, w.0, 1)), node("p1", "p1_1", layer("relu")),
            node("p2_1", "input", conv(nil, w.1.0, 1)), node("p2_1r", "p2_1", layer("relu")),
            node("p2_2", "p2_1r", conv(nil, w.1.1, 3, padding: 1)), node("p2", "p2_2", layer("relu")),
            node("p3_1", "input", conv(nil, w.2.0, 1)), node("p3_1r", "p3_1", layer("relu")),
            node("p3_2", "p3_1r", conv(nil, w.2.1, 5, padding: 2)), node("p3", "p3_2", layer("relu")),
            node("p4_1", "input", maxpool(nil, 3, 1, padding: 1)),
            node("p4_2", "p4_1", conv(nil, w.3, 1)), node("p4", "p4_2", layer("relu")),
        ]
        return concatGraph(name, nodes: nodes, outputs: ["p1", "p2", "p3", "p4"])
    }

    static func d2lNet(classes: Int, _ scaled: Scale) -> KitJSON {
        let b1 = sequential("0", [conv(nil, scaled(64), 7, stride: 2, padding: 3), layer("relu"), maxpool(nil, 3, 2, padding: 1)])
        let b2 = sequential("1", [conv(nil, scaled(64), 1), layer("relu"), conv(nil, scaled(192), 3, padding: 1), layer("relu"),
                                  maxpool(nil, 3, 2, padding: 1)])
        func stage(_ name: String, _ widths: [Widths], tail: [KitJSON]) -> KitJSON {
            sequential(name, widths.enumerated().map { d2lInception(String($0.offset), scaled($0.element)) } + tail)
        }
        let b3 = stage("2", stage3, tail: [maxpool(nil, 3, 2, padding: 1)])
        let b4 = stage("3", stage4, tail: [maxpool(nil, 3, 2, padding: 1)])
        let b5 = stage("4", stage5, tail: [layer("adaptive_avgpool2d"), layer("flatten")])
        return sequential(nil, [b1, b2, b3, b4, b5, .object([("kind", "linear"), ("name", "5"), ("out_features", .int(classes))])])
    }

    // MARK: torchvision

    /// BasicConv2d: conv (no bias), batch norm (eps 0.001), ReLU, named conv and bn.
    static func basic(_ name: String?, _ out: Int, _ k: Int, stride: Int = 1, padding: Int = 0) -> KitJSON {
        sequential(name, [conv("conv", out, k, stride: stride, padding: padding, bias: false),
                          .object([("kind", "batchnorm2d"), ("name", "bn"), ("eps", 0.001)]), layer("relu", "relu")])
    }

    static func torchvisionInception(_ name: String, _ w: Widths) -> KitJSON {
        let nodes: [KitJSON] = [
            node("branch1", "input", basic(nil, w.0, 1)),
            node("branch2", "input", sequential(nil, [basic("0", w.1.0, 1), basic("1", w.1.1, 3, padding: 1)])),
            node("branch3", "input", sequential(nil, [basic("0", w.2.0, 1), basic("1", w.2.1, 3, padding: 1)])),
            node("branch4", "input", sequential(nil, [maxpool("0", 3, 1, padding: 1, ceil: true), basic("1", w.3, 1)])),
        ]
        return concatGraph(name, nodes: nodes, outputs: ["branch1", "branch2", "branch3", "branch4"])
    }

    static func torchvisionNet(classes: Int, _ scaled: Scale, dropout: Double) -> KitJSON {
        var layers: [KitJSON] = [
            basic("conv1", scaled(64), 7, stride: 2, padding: 3), maxpool("maxpool1", 3, 2, ceil: true),
            basic("conv2", scaled(64), 1), basic("conv3", scaled(192), 3, padding: 1), maxpool("maxpool2", 3, 2, ceil: true),
        ]
        for (i, w) in stage3.enumerated() { layers.append(torchvisionInception("inception3" + ["a", "b"][i], scaled(w))) }
        layers.append(maxpool("maxpool3", 3, 2, ceil: true))
        for (i, w) in stage4.enumerated() { layers.append(torchvisionInception("inception4" + ["a", "b", "c", "d", "e"][i], scaled(w))) }
        layers.append(maxpool("maxpool4", 2, 2, ceil: true))
        for (i, w) in stage5.enumerated() { layers.append(torchvisionInception("inception5" + ["a", "b"][i], scaled(w))) }
        layers += [layer("adaptive_avgpool2d", "avgpool"), layer("flatten", "flatten"),
                   .object([("kind", "dropout"), ("name", "dropout"), ("p", .number(dropout))]),
                   .object([("kind", "linear"), ("name", "fc"), ("out_features", .int(classes))])]
        return sequential(nil, layers)
    }
}
