import StrataKit

/// AlexNet, in torchvision's or d2l's form (Dive into Deep Learning, section 8.1).
///
/// `variant` "torchvision" (default): `features` = conv 64@11x11/4 pad 2, relu, maxpool 3/2, conv 192@5x5
/// pad 2, relu, maxpool, conv 384@3x3, relu, conv 256, relu, conv 256, relu, maxpool;
/// `classifier` = dropout, linear 4096, relu, dropout, linear 4096, relu, linear `classes`
/// (names `features.0.weight` … `classifier.6.weight`, torchvision's). torchvision's adaptive 6x6
/// average pool between the two is left out: it is the identity for 224x224 inputs (6x6 feature
/// maps), the only size torchvision's weights fit. 61 100 840 parameters for 1000 classes.
///
/// `variant` "d2l": 96, 256, 384, 384, 256 channels, first convolution pad 1, and the
/// classifier linear, relu, dropout, linear, relu, dropout, linear (`classifier.0`, `.3`, `.6`);
/// 6400 flattened features at 224x224, 46 764 746 parameters for one input channel and 10 classes.
///
/// Options: `classes` (10), `variant`, `width` (factor on every channel count and the hidden
/// units; 1), `hidden` (hidden units before `width`; 4096), `dropout` (0.5).
enum AlexNet: KitModelBuilder {
    static func graph(config: KitConfig) throws -> String {
        let classes = try config.classes()
        let variant = try config.choice("variant", ["torchvision", "d2l"], default: "torchvision")
        let width = try config.factor("width", default: 1)
        let hiddenOption = try config.int("hidden", default: 4096)
        guard (1...1 << 20).contains(hiddenOption) else { throw KitError.invalidArgument("hidden must be between 1 and 1048576, got \(hiddenOption)") }
        let hidden = scaled(hiddenOption, width)
        let p = try config.probability("dropout", default: 0.5)
        let d2l = variant == "d2l"
        let c = (d2l ? [96, 256, 384, 384, 256] : [64, 192, 384, 256, 256]).map { scaled($0, width) }
        let features = G.indexed("features", [
            { G.conv($0, c[0], 11, stride: 4, padding: d2l ? 1 : 2) }, G.relu, { G.maxpool($0, 3, stride: 2) },
            { G.conv($0, c[1], 5, padding: 2) }, G.relu, { G.maxpool($0, 3, stride: 2) },
            { G.conv($0, c[2], 3, padding: 1) }, G.relu,
            { G.conv($0, c[3], 3, padding: 1) }, G.relu,
            { G.conv($0, c[4], 3, padding: 1) }, G.relu, { G.maxpool($0, 3, stride: 2) },
        ])
        let drop: (String) -> KitJSON = { G.dropout($0, p) }
        let classifier = d2l
            ? G.indexed("classifier", [{ G.linear($0, hidden) }, G.relu, drop, { G.linear($0, hidden) }, G.relu, drop, { G.linear($0, classes) }])
            : G.indexed("classifier", [drop, { G.linear($0, hidden) }, G.relu, drop, { G.linear($0, hidden) }, G.relu, { G.linear($0, classes) }])
        return G.root([features, G.flatten("flatten"), classifier])
    }
}
