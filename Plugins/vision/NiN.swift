import StrataKit

/// Network in Network as d2l builds it (Dive into Deep Learning, section 8.3): four NiN blocks
/// (a convolution and two 1x1 convolutions, each followed by ReLU) of 96 (11x11/4), 256 (5x5,
/// pad 2), 384 (3x3, pad 1) and `classes` (3x3, pad 1) channels, 3x3/2 max pools between the
/// first three, dropout before the last, then a global average pool and flatten. Names follow
/// d2l's `nn.Sequential` (`0.0.weight`, `0.2.weight`, `2.0.weight`, `7.4.weight`).
/// 1 992 166 parameters for one input channel and 10 classes.
///
/// Options: `classes` (10), `width` (factor on the first three blocks' channels; 1), `dropout` (0.5).
enum NiN: KitModelBuilder {
    static func graph(config: KitConfig) throws -> String {
        let classes = try config.classes()
        let width = try config.factor("width", default: 1)
        let p = try config.probability("dropout", default: 0.5)
        func block(_ name: String, _ out: Int, _ k: Int, _ s: Int, _ pad: Int) -> KitJSON {
            G.indexed(name, [{ G.conv($0, out, k, stride: s, padding: pad) }, G.relu,
                             { G.conv($0, out, 1) }, G.relu, { G.conv($0, out, 1) }, G.relu])
        }
        return G.root([
            block("0", scaled(96, width), 11, 4, 0), G.maxpool("1", 3, stride: 2),
            block("2", scaled(256, width), 5, 1, 2), G.maxpool("3", 3, stride: 2),
            block("4", scaled(384, width), 3, 1, 1), G.maxpool("5", 3, stride: 2),
            G.dropout("6", p),
            block("7", classes, 3, 1, 1),
            G.globalPool("8"), G.flatten("9"),
        ])
    }
}
