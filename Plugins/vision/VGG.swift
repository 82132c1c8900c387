import StrataKit

/// VGG (Simonyan and Zisserman's configurations A to E), named as torchvision names `vgg11` …
/// `vgg19` and `vgg*_bn`: `features` holds the convolutions (3x3, pad 1; with `batch_norm` each is
/// followed by a BatchNorm) with ReLU and 2x2 max pools, indexed as torchvision's `nn.Sequential`;
/// `classifier` = linear `hidden`, relu, dropout, linear `hidden`, relu, dropout, linear `classes`
/// (`classifier.0`, `.3`, `.6`). torchvision's adaptive 7x7 average pool is left out: at 224x224
/// inputs the feature map is 7x7 already and the pool is the identity. Configuration C (VGG-16 with
/// three 1x1 convolutions) has no torchvision model; its parameters are named the same way.
/// 138 357 544 parameters for `config` "D" with 1000 classes and three input channels.
///
/// d2l's VGG (Dive into Deep Learning, section 8.2) is configuration A with `ratio` 4 (every
/// convolution's channels divided by 4; the hidden units stay 4096) and 10 classes.
///
/// Options: `config` ("A" to "E", or "11", "13", "16", "19"; default "A"), `batch_norm` (false),
/// `ratio` (integer divisor of the convolutions' channels; 1), `classes` (10), `hidden` (4096),
/// `dropout` (0.5).
enum VGG: KitModelBuilder {
    /// Channels per convolution, 0 a max pool; C's 1x1 convolutions are negative.
    static let configurations: [String: [Int]] = [
        "A": [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        "B": [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0],
        "C": [64, 64, 0, 128, 128, 0, 256, 256, -256, 0, 512, 512, -512, 0, 512, 512, -512, 0],
        "D": [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0],
        "E": [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0],
    ]

    static func graph(config: KitConfig) throws -> String {
        let classes = try config.classes()
        var name = try config.string("config", default: "A")
        name = ["11": "A", "13": "B", "16": "D", "19": "E"][name] ?? name
        guard let layout = configurations[name] else {
            throw KitError.invalidArgument("config must be \"A\", \"B\", \"C\", \"D\", \"E\", \"11\", \"13\", \"16\" or \"19\", got \"\(name)\"")
        }
        let batchNorm = try config.bool("batch_norm", default: false)
        let ratio = try config.int("ratio", default: 1)
        guard (1...512).contains(ratio) else { throw KitError.invalidArgument("ratio must be between 1 and 512, got \(ratio)") }
        let hidden = try config.int("hidden", default: 4096)
        guard (1...1 << 20).contains(hidden) else { throw KitError.invalidArgument("hidden must be between 1 and 1048576, got \(hidden)") }
        let p = try config.probability("dropout", default: 0.5)

        var features: [KitJSON] = []
        func next() -> String { String(features.count) }
        for entry in layout {
            if entry == 0 { features.append(G.maxpool(next(), 2, stride: 2)); continue }
            let k = entry < 0 ? 1 : 3
            features.append(G.conv(next(), max(1, abs(entry) / ratio), k, padding: k / 2))
            if batchNorm { features.append(G.bn(next())) }
            features.append(G.relu(next()))
        }
        return G.root([
            G.seq("features", features), G.flatten("flatten"),
            G.indexed("classifier", [{ G.linear($0, hidden) }, G.relu, { G.dropout($0, p) },
                                     { G.linear($0, hidden) }, G.relu, { G.dropout($0, p) }, { G.linear($0, classes) }]),
        ])
    }
}
