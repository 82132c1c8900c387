import StrataKit

/// MobileNet V1 (Howard et al.) as the CNN survey the zoo follows writes it for 1x28x28 or
/// larger inputs: `conv1` (3x3/2, 32 channels, no bias), `bn1`, ReLU, then `layers`, thirteen
/// depthwise separable blocks (`depthwise` 3x3 with one group per channel, `bn1`, ReLU,
/// `pointwise` 1x1, `bn2`, ReLU) of 64, 128, 128, 256, 256, 512 (six times) and 1024 (twice)
/// channels, stride 2 at the first 128, 256, 512 and 1024, then a global average pool and `fc`.
/// Names follow that definition (`layers.0.depthwise.weight`, `layers.12.bn2.running_var`).
/// 3 216 650 parameters for one input channel and 10 classes.
///
/// The width multiplier α (`alpha`) scales every channel count. The resolution multiplier ρ
/// (`rho`) scales the input: below 1, the network starts with a `bilinear_resize` layer named
/// `resize` that takes an H×W input to round(ρ·H)×round(ρ·W), so 224×224 data with ρ = 6/7, 5/7
/// or 4/7 gives the paper's 192, 160 and 128. At ρ = 1 (the default) there is no such layer.
///
/// Options: `classes` (10), `alpha` (1), `rho` (1).
enum MobileNetV1: KitModelBuilder {
    static let blocks: [(channels: Int, stride: Int)] = [
        (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
        (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
    ]

    static func graph(config: KitConfig) throws -> String {
        let classes = try config.classes()
        let alpha = try config.factor("alpha", default: 1)
        let rho = try config.double("rho", default: 1)
        guard rho > 0, rho <= 1 else { throw KitError.invalidArgument("rho must be greater than 0 and at most 1, got \(rho)") }
        var channels = scaled(32, alpha)
        var layers: [KitJSON] = []
        for (i, b) in blocks.enumerated() {
            let out = scaled(b.channels, alpha)
            layers.append(G.seq(String(i), [
                G.conv("depthwise", channels, 3, stride: b.stride, padding: 1, groups: channels, bias: false), G.bn("bn1"), G.relu("relu1"),
                G.conv("pointwise", out, 1, bias: false), G.bn("bn2"), G.relu("relu2"),
            ]))
            channels = out
        }
        let resize: [KitJSON] = rho == 1 ? [] : [.object([("kind", "bilinear_resize"), ("name", "resize"), ("scale", .number(rho))])]
        return G.root(resize + [
            G.conv("conv1", scaled(32, alpha), 3, stride: 2, padding: 1, bias: false), G.bn("bn1"), G.relu("relu1"),
            G.seq("layers", layers), G.globalPool("avgpool"), G.flatten("flatten"), G.linear("fc", classes),
        ])
    }
}
