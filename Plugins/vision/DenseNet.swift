import StrataKit

/// DenseNet (Huang et al., 2017) as a recipe graph, each dense block a `dense_concat`, in two
/// variants:
///
/// - `torchvision` (default): torchvision's `densenet121` and its siblings: a stem `conv0`
///   (7×7, stride 2, no bias), `norm0`, `relu0`, `pool0`; dense blocks of `block_config` layers,
///   each layer `norm1`, `relu1`, `conv1` (1×1 to `bn_size`·`growth_rate`), `norm2`, `relu2`,
///   `conv2` (3×3 to `growth_rate`), convolutions without bias; transitions (`norm`, `relu`,
///   `conv` halving the channels, `pool` 2×2 average) between blocks; `norm5`, then ReLU, global
///   average pool and `classifier`. Parameter names are torchvision's
///   (`features.denseblock1.denselayer1.conv1.weight`). DenseNet-121 (the defaults: growth 32,
///   blocks [6, 12, 24, 16], 64 initial features, 3 channels, 1000 classes) has 7 978 856
///   parameters.
/// - `d2l`: Dive into Deep Learning's small DenseNet (section 8.7), as its PyTorch code writes
///   it: stem conv 7×7 with bias, batch norm, ReLU, max pool; dense blocks of `block_config`
///   layers (default [4, 4, 4, 4]) of batch norm, ReLU, 3×3 convolution with bias to
///   `growth_rate` (32); transitions of batch norm, ReLU, 1×1 convolution with bias halving the
///   channels and 2×2 average pool; then batch norm, ReLU, global average pool, flatten and a
///   linear layer; 1 input channel and 10 classes by default, names as d2l's `nn.Sequential`
///   (`1.net.0.2.weight` is the first block's first convolution).
enum DenseNet: KitModelBuilder {
    static func graph(config: KitConfig) throws -> String {
        let variant = try config.string("variant", default: "torchvision")
        guard variant == "d2l" || variant == "torchvision" else {
            throw KitError.invalidArgument("variant must be \"d2l\" or \"torchvision\", got \"\(variant)\"")
        }
        let d2l = variant == "d2l"
        let classes = try config.int("classes", default: d2l ? 10 : 1000)
        guard (1...1_000_000).contains(classes) else { throw KitError.invalidArgument("classes must be between 1 and 1000000, got \(classes)") }
        let growth = try config.int("growth_rate", default: 32)
        guard (1...4096).contains(growth) else { throw KitError.invalidArgument("growth_rate must be between 1 and 4096, got \(growth)") }
        let blocks = try config.ints("block_config", default: d2l ? [4, 4, 4, 4] : [6, 12, 24, 16])
        guard !blocks.isEmpty, blocks.count <= 8, blocks.allSatisfy({ (1...256).contains($0) }) else {
            throw KitError.invalidArgument("block_config must be 1 to 8 layer counts between 1 and 256, got \(blocks)")
        }
        let initial = try config.int("num_init_features", default: 64)
        guard (1...4096).contains(initial) else { throw KitError.invalidArgument("num_init_features must be between 1 and 4096, got \(initial)") }
        let bnSize = try config.int("bn_size", default: 4)
        guard (1...64).contains(bnSize) else { throw KitError.invalidArgument("bn_size must be between 1 and 64, got \(bnSize)") }
        let net = d2l ? d2lNet(classes: classes, growth: growth, blocks: blocks, initial: initial)
                      : torchvisionNet(classes: classes, growth: growth, blocks: blocks, initial: initial, bnSize: bnSize)
        return net.serialized()
    }

    static func conv(_ name: String?, _ out: Int, _ k: Int, stride: Int = 1, padding: Int = 0, bias: Bool) -> KitJSON {
        GoogLeNet.conv(name, out, k, stride: stride, padding: padding, bias: bias)
    }

    static func norm(_ name: String?) -> KitJSON { GoogLeNet.layer("batchnorm2d", name) }
    static func relu(_ name: String?) -> KitJSON { GoogLeNet.layer("relu", name) }

    static func avgpool(_ name: String?) -> KitJSON {
        .object([("kind", "avgpool2d"), ("kernel_size", 2), ("stride", 2)] + (name.map { [("name", KitJSON.string($0))] } ?? []))
    }

    static func dense(_ name: String, _ layers: [KitJSON]) -> KitJSON {
        .object([("kind", "dense_concat"), ("name", .string(name)), ("layers", .array(layers))])
    }

    static func torchvisionNet(classes: Int, growth: Int, blocks: [Int], initial: Int, bnSize: Int) -> KitJSON {
        var features: [KitJSON] = [conv("conv0", initial, 7, stride: 2, padding: 3, bias: false), norm("norm0"), relu("relu0"),
                                   GoogLeNet.maxpool("pool0", 3, 2, padding: 1)]
        var channels = initial
        for (b, count) in blocks.enumerated() {
            let layers = (1...count).map { i in
                GoogLeNet.sequential("denselayer\(i)", [norm("norm1"), relu("relu1"), conv("conv1", bnSize * growth, 1, bias: false),
                                                        norm("norm2"), relu("relu2"), conv("conv2", growth, 3, padding: 1, bias: false)])
            }
            features.append(dense("denseblock\(b + 1)", layers))
            channels += count * growth
            if b != blocks.count - 1 {
                channels /= 2
                features.append(GoogLeNet.sequential("transition\(b + 1)", [norm("norm"), relu("relu"), conv("conv", channels, 1, bias: false),
                                                                           avgpool("pool")]))
            }
        }
        features.append(norm("norm5"))
        return GoogLeNet.sequential(nil, [
            GoogLeNet.sequential("features", features), relu("relu"), GoogLeNet.layer("adaptive_avgpool2d", "pool"),
            GoogLeNet.layer("flatten", "flatten"), .object([("kind", "linear"), ("name", "classifier"), ("out_features", .int(classes))]),
        ])
    }

    static func d2lNet(classes: Int, growth: Int, blocks: [Int], initial: Int) -> KitJSON {
        var net: [KitJSON] = [GoogLeNet.sequential("0", [conv(nil, initial, 7, stride: 2, padding: 3, bias: true), norm(nil), relu(nil),
                                                         GoogLeNet.maxpool(nil, 3, 2, padding: 1)])]
        var channels = initial
        for (b, count) in blocks.enumerated() {
            let layers = (0..<count).map { _ in GoogLeNet.sequential(nil, [norm(nil), relu(nil), conv(nil, growth, 3, padding: 1, bias: true)]) }
            // d2l's DenseBlock keeps its convolution blocks in a child named `net`
            net.append(GoogLeNet.sequential(String(net.count), [dense("net", layers)]))
            channels += count * growth
            if b != blocks.count - 1 {
                channels /= 2
                net.append(GoogLeNet.sequential(String(net.count), [norm(nil), relu(nil), conv(nil, channels, 1, bias: true), avgpool(nil)]))
            }
        }
        let n = net.count
        net += [norm(String(n)), relu(String(n + 1)), GoogLeNet.layer("adaptive_avgpool2d", String(n + 2)), GoogLeNet.layer("flatten", String(n + 3)),
                .object([("kind", "linear"), ("name", .string(String(n + 4))), ("out_features", .int(classes))])]
        return GoogLeNet.sequential(nil, net)
    }
}
