import StrataKit

/// The CIFAR ResNet of He et al. ("Deep Residual Learning for Image Recognition", section 4.2):
/// depth 6n+2 = a 3x3 stem convolution, three stages of n basic blocks at `width`, 2·`width` and
/// 4·`width` channels (the first block of stages 2 and 3 has stride 2), global average pooling and
/// one linear layer. Names follow torchvision's ResNets, with the core's `residual` in between
/// (its children are `body` and `shortcut`, torchvision's `downsample`):
///
///     conv1, bn1, relu                        stem            [N, C_in, H, W] -> [N, w, H', W']
///     layer1.0 … layer1.{n-1}                 one `residual` per basic block, each followed by
///                                             its ReLU `layer1.relu<b>` (the ReLU after the addition
///                                             is a sibling, since `residual` only adds)
///       layer1.0.body: conv1, bn1, relu, conv2, bn2
///       layer2.0.shortcut: 0 (1x1 conv, stride 2), 1 (batchnorm), only in stride-2 blocks
///     layer2 (2w channels, H'/2), layer3 (4w channels, H'/4)
///     avgpool, flatten, fc                    head            [N, 4w, ., .] -> [N, classes]
///
/// 758 266 parameters for depth 50, width 16, one input channel and 10 classes.
///
/// The shortcut of the stride-2 blocks is a projection (He's option B, torchvision's
/// `downsample`); the parameter-free option A (subsample, then zero channels) needs a layer the
/// core does not have. `stem_padding` 3 turns a 28x28 image into 32x32 features, the size the
/// network is designed for (Fashion-MNIST run at CIFAR geometry).
///
/// Options: `classes` (10), `depth` (50: n = 8, 25 blocks counting the stem), `width` (16),
/// `stem_padding` (1), `in_channels` is taken from the data.
enum CifarResNet: KitModelBuilder {
    static func graph(config: KitConfig) throws -> String {
        let classes = try config.int("classes", default: 10)
        guard (1...1_000_000).contains(classes) else { throw KitError.invalidArgument("classes must be between 1 and 1000000, got \(classes)") }
        let depth = try config.int("depth", default: 50)
        guard (8...602).contains(depth), (depth - 2) % 6 == 0 else {
            throw KitError.invalidArgument("depth must be 6n+2 with 1 <= n <= 100 (8, 14, 20, …, 50, 56, 110), got \(depth)")
        }
        let width = try config.int("width", default: 16)
        guard (1...4096).contains(width) else { throw KitError.invalidArgument("width must be between 1 and 4096, got \(width)") }
        let stemPadding = try config.int("stem_padding", default: 1)
        guard (0...16).contains(stemPadding) else { throw KitError.invalidArgument("stem_padding must be between 0 and 16, got \(stemPadding)") }
        let n = (depth - 2) / 6

        func conv(_ name: String, _ out: Int, kernel: Int, stride: Int, padding: Int) -> KitJSON {
            .object([("kind", "conv2d"), ("name", .string(name)), ("out_channels", .int(out)), ("kernel_size", .int(kernel)),
                     ("stride", .int(stride)), ("padding", .int(padding)), ("bias", false)])
        }
        func bn(_ name: String) -> KitJSON { .object([("kind", "batchnorm2d"), ("name", .string(name))]) }
        func relu(_ name: String) -> KitJSON { .object([("kind", "relu"), ("name", .string(name))]) }

        /// One basic block: residual(body, shortcut), then its ReLU as the next sibling.
        func block(_ index: Int, channels: Int, stride: Int) -> [KitJSON] {
            let body: KitJSON = .object([("kind", "sequential"), ("layers", [
                conv("conv1", channels, kernel: 3, stride: stride, padding: 1), bn("bn1"), relu("relu"),
                conv("conv2", channels, kernel: 3, stride: 1, padding: 1), bn("bn2"),
            ])])
            var members: [(String, KitJSON)] = [("kind", "residual"), ("name", .string(String(index))), ("body", body)]
            if stride != 1 {
                members.append(("shortcut", .object([("kind", "sequential"), ("name", "downsample"), ("layers", [
                    conv("0", channels, kernel: 1, stride: stride, padding: 0), bn("1"),
                ])])))
            }
            return [.object(members), relu("relu\(index)")]
        }

        var layers: [KitJSON] = [conv("conv1", width, kernel: 3, stride: 1, padding: stemPadding), bn("bn1"), relu("relu")]
        for stage in 0..<3 {
            let channels = width << stage
            var blocks: [KitJSON] = []
            for b in 0..<n { blocks += block(b, channels: channels, stride: stage > 0 && b == 0 ? 2 : 1) }
            layers.append(.object([("kind", "sequential"), ("name", .string("layer\(stage + 1)")), ("layers", .array(blocks))]))
        }
        layers.append(.object([("kind", "adaptive_avgpool2d"), ("name", "avgpool"), ("output_size", 1)]))
        layers.append(.object([("kind", "flatten"), ("name", "flatten")]))
        layers.append(.object([("kind", "linear"), ("name", "fc"), ("out_features", .int(classes))]))
        return KitJSON.object([("kind", "sequential"), ("layers", .array(layers))]).serialized()
    }
}
