import StrataKit

/// The networks fast.ai's lesson 7 (2018) builds step by step on CIFAR-10, each ending in
/// log-softmax (train them with the `nll` loss). Names follow the lesson's modules (`layers.0`,
/// `layers2.1.conv`, `out`). The lesson's `BnLayer` normalises with the batch's statistics in
/// training and reuses the last batch's in evaluation; here it is conv (bias-free, pad 1), ReLU
/// and a standard `batchnorm2d` (`bn`, running statistics), as fast.ai's own library does it.
///
/// - `simplenet`: flatten, then linear layers of `widths` then `classes` units, ReLU between
///   (`layers.<i>`). Default widths [40]: 122 920 parameters for 3x32x32 inputs.
/// - `convnet`: 3x3/2 convolutions without padding of `widths` channels with ReLU (`layers.<i>`),
///   global max pool, `out`. Default widths [20, 40, 80].
/// - `convbnnet`: `conv1` 5x5 of 10 channels (pad 2), then a stride-2 BnLayer per width
///   (`layers.<i>`), global max pool, `out`. Default widths [20, 40, 80, 160].
/// - `fastai_resnet`: as `convbnnet`, and after each stride-2 BnLayer two residual BnLayers
///   x + BnLayer(x) (`layers2.<i>`, `layers3.<i>`).
/// - `fastai_resnet2`: as `fastai_resnet`, with a stride-1 7x7 BnLayer `conv1` of 16 channels (pad
///   1, as the lesson writes it), and dropout `p` before `out`. Default widths [32, 64, 128, 256].
///
/// Options: `classes` (10), `widths`, `p` (dropout, `fastai_resnet2` only; 0.5).
enum FastAI {
    static func widths(_ config: KitConfig, default value: [Int]) throws -> [Int] {
        let widths = try config.ints("widths", default: value)
        guard !widths.isEmpty, widths.count <= 16, widths.allSatisfy({ (1...65_536).contains($0) }) else {
            throw KitError.invalidArgument("widths must be 1 to 16 counts between 1 and 65536, got \(widths)")
        }
        return widths
    }

    /// BnLayer: conv (no bias, pad 1), relu, batch norm.
    static func bnLayer(_ name: String, _ out: Int, stride: Int, kernel: Int = 3) -> KitJSON {
        G.seq(name, [G.conv("conv", out, kernel, stride: stride, padding: 1, bias: false), G.relu("relu"), G.bn("bn")])
    }

    /// The lesson's BnLayer networks; stage i holds `layers.i` (and `layers2.i`, `layers3.i`).
    static func bnNet(_ config: KitConfig, residual: Bool, resnet2: Bool) throws -> String {
        let classes = try config.classes()
        let widths = try widths(config, default: resnet2 ? [32, 64, 128, 256] : [20, 40, 80, 160])
        var layers: [KitJSON] = [resnet2 ? bnLayer("conv1", 16, stride: 1, kernel: 7) : G.conv("conv1", 10, 5, padding: 2)]
        for (i, w) in widths.enumerated() {
            // A stage is a sequential named "" (no name level), so its parts read layers.i, layers2.i.
            var stage = [G.seq("layers", [bnLayer(String(i), w, stride: 2)])]
            if residual {
                for group in ["layers2", "layers3"] {
                    let body = G.seq(nil, [G.conv("conv", w, 3, padding: 1, bias: false), G.relu("relu"), G.bn("bn")])
                    stage.append(G.seq(group, [.object([("kind", "residual"), ("name", .string(String(i))), ("body_name", ""), ("body", body)])]))
                }
            }
            layers.append(G.seq("", stage))
        }
        layers += [G.globalPool("pool", max: true), G.flatten("flatten")]
        if resnet2 { layers.append(G.dropout("drop", try config.probability("p", default: 0.5))) }
        layers += [G.linear("out", classes), G.logSoftmax("log_softmax")]
        return G.root(layers)
    }
}

enum SimpleNet: KitModelBuilder {
    static func graph(config: KitConfig) throws -> String {
        let classes = try config.classes()
        let widths = try FastAI.widths(config, default: [40])
        var layers: [KitJSON] = []
        for (i, w) in widths.enumerated() { layers += [G.linear(String(i), w), G.relu("relu\(i)")] }
        layers.append(G.linear(String(widths.count), classes))
        return G.root([G.flatten("flatten"), G.seq("layers", layers), G.logSoftmax("log_softmax")])
    }
}

enum ConvNet: KitModelBuilder {
    static func graph(config: KitConfig) throws -> String {
        let classes = try config.classes()
        let widths = try FastAI.widths(config, default: [20, 40, 80])
        var layers: [KitJSON] = []
        for (i, w) in widths.enumerated() { layers += [G.conv(String(i), w, 3, stride: 2), G.relu("relu\(i)")] }
        return G.root([G.seq("layers", layers), G.globalPool("pool", max: true), G.flatten("flatten"),
                       G.linear("out", classes), G.logSoftmax("log_softmax")])
    }
}

enum ConvBnNet: KitModelBuilder {
    static func graph(config: KitConfig) throws -> String { try FastAI.bnNet(config, residual: false, resnet2: false) }
}

enum FastAIResnet: KitModelBuilder {
    static func graph(config: KitConfig) throws -> String { try FastAI.bnNet(config, residual: true, resnet2: false) }
}

enum FastAIResnet2: KitModelBuilder {
    static func graph(config: KitConfig) throws -> String { try FastAI.bnNet(config, residual: true, resnet2: true) }
}
