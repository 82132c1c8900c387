import StrataKit

/// ResNet-18/34/50/101/152 and ResNeXt, as torchvision defines them, with torchvision's
/// parameter names (`conv1`, `bn1`, `layer1.0.conv1.weight`, `layer2.0.downsample.0.weight`,
/// `fc.weight`): a 7x7/2 stem with BatchNorm, ReLU and a 3x3/2 max pool, four stages of basic
/// (18, 34) or bottleneck (50, 101, 152) blocks of 64, 128, 256 and 512 planes (bottlenecks expand
/// by 4), each stage after the first starting with stride 2, then a global average pool and `fc`.
/// A block is `relu(body(x) + downsample(x))`; the downsample (1x1 convolution and BatchNorm) is
/// there when the stride or the channels change. 11 689 512 parameters for ResNet-18 with 1000
/// classes, 25 557 032 for ResNet-50, 25 028 904 for ResNeXt-50 32x4d (`groups` 32,
/// `width_per_group` 4: the bottleneck's 3x3 convolution is grouped, of planes·4/64·32 channels).
///
/// `variant` "d2l" is d2l's ResNet (Dive into Deep Learning, section 8.6): every convolution
/// carries a bias and the projection shortcut is a 1x1 convolution without BatchNorm
/// (`downsample.0`). With `depth` 18, one input channel and 10 classes that is the network d2l
/// trains on Fashion-MNIST at 96x96 (11 178 378 parameters).
///
/// Options: `depth` (18, 34, 50, 101 or 152; default 18), `classes` (10), `width` (factor on the
/// planes; 1), `groups` (1), `width_per_group` (64), `variant` ("torchvision" or "d2l").
enum ResNet: KitModelBuilder {
    static func graph(config: KitConfig) throws -> String {
        let depth = try config.int("depth", default: 18)
        let layouts: [Int: (bottleneck: Bool, blocks: [Int])] = [
            18: (false, [2, 2, 2, 2]), 34: (false, [3, 4, 6, 3]), 50: (true, [3, 4, 6, 3]),
            101: (true, [3, 4, 23, 3]), 152: (true, [3, 8, 36, 3]),
        ]
        guard let layout = layouts[depth] else { throw KitError.invalidArgument("depth must be 18, 34, 50, 101 or 152, got \(depth)") }
        let classes = try config.classes()
        let width = try config.factor("width", default: 1)
        let groups = try config.int("groups", default: 1)
        guard (1...1024).contains(groups) else { throw KitError.invalidArgument("groups must be between 1 and 1024, got \(groups)") }
        let widthPerGroup = try config.int("width_per_group", default: 64)
        guard (1...4096).contains(widthPerGroup) else { throw KitError.invalidArgument("width_per_group must be between 1 and 4096, got \(widthPerGroup)") }
        if !layout.bottleneck, groups != 1 || widthPerGroup != 64 {
            throw KitError.invalidArgument("groups and width_per_group apply to bottleneck blocks (depth 50, 101, 152) only")
        }
        let d2l = try config.choice("variant", ["torchvision", "d2l"], default: "torchvision") == "d2l"
        let expansion = layout.bottleneck ? 4 : 1

        var inplanes = scaled(64, width)
        func block(_ index: Int, planes: Int, stride: Int) -> KitJSON {
            var body: [KitJSON]
            let out = planes * expansion
            if layout.bottleneck {
                // torchvision: width = planes * (base_width / 64) * groups; grouped 3x3 in the middle.
                let inner = planes * widthPerGroup / 64 * groups  // exact for torchvision's sizes
                body = [G.conv("conv1", inner, 1, bias: d2l), G.bn("bn1"), G.relu("relu1"),
                        G.conv("conv2", inner, 3, stride: stride, padding: 1, groups: groups, bias: d2l), G.bn("bn2"), G.relu("relu2"),
                        G.conv("conv3", out, 1, bias: d2l), G.bn("bn3")]
            } else {
                body = [G.conv("conv1", planes, 3, stride: stride, padding: 1, bias: d2l), G.bn("bn1"), G.relu("relu1"),
                        G.conv("conv2", planes, 3, padding: 1, bias: d2l), G.bn("bn2")]
            }
            var residual: [(String, KitJSON)] = [("kind", "residual"), ("name", ""), ("body_name", ""), ("body", G.seq(nil, body))]
            if stride != 1 || inplanes != out {
                let projection = G.conv("0", out, 1, stride: stride, bias: d2l)
                residual.append(("shortcut_name", "downsample"))
                residual.append(("shortcut", G.seq(nil, d2l ? [projection] : [projection, G.bn("1")])))
            }
            inplanes = out
            return G.seq(String(index), [.object(residual), G.relu("relu")])
        }
        var layers: [KitJSON] = [
            G.conv("conv1", inplanes, 7, stride: 2, padding: 3, bias: d2l), G.bn("bn1"), G.relu("relu"),
            G.maxpool("maxpool", 3, stride: 2, padding: 1),
        ]
        guard (1...16_384).contains(scaled(512, width) * expansion) else { throw KitError.invalidArgument("width \(width) gives too many channels") }
        for (stage, count) in layout.blocks.enumerated() {
            let planes = scaled(64 << stage, width)
            if layout.bottleneck, planes * widthPerGroup / 64 * groups < 1 {
                throw KitError.invalidArgument("width_per_group \(widthPerGroup) with groups \(groups) leaves no channels at \(planes) planes")
            }
            layers.append(G.seq("layer\(stage + 1)", (0..<count).map { block($0, planes: planes, stride: $0 == 0 && stage > 0 ? 2 : 1) }))
        }
        layers += [G.globalPool("avgpool"), G.flatten("flatten"), G.linear("fc", classes)]
        return G.root(layers)
    }
}
