import StrataKit

/// The LeNet of the two-class example in the CNN survey the zoo follows: LeNet-5 with a
/// BatchNorm after each convolution, ReLU and 2x2 max pooling, for 1x28x28 inputs.
/// `conv1` = [conv 6@5x5 pad 2, bn, relu, pool], `conv2` = [conv 16@5x5, bn, relu, pool],
/// `fc1` = [linear 120, relu], `fc2` = [linear 84, relu], `fc` = linear `classes`.
/// Parameter names follow that definition (`conv1.0.weight`, `conv1.1.running_mean`, `fc.weight`).
///
/// Options: `classes` (default 2).
enum LeNetBN: KitModelBuilder {
    static func graph(config: KitConfig) throws -> String {
        let classes = try config.int("classes", default: 2)
        guard (1...1_000_000).contains(classes) else { throw KitError.invalidArgument("classes must be between 1 and 1000000, got \(classes)") }
        return G.root([
            G.seq("conv1", [G.conv("0", 6, 5, padding: 2), G.bn("1"), G.relu("2"), G.maxpool("3", 2, stride: 2)]),
            G.seq("conv2", [G.conv("0", 16, 5), G.bn("1"), G.relu("2"), G.maxpool("3", 2, stride: 2)]),
            G.flatten("flatten"),
            G.seq("fc1", [G.linear("0", 120), G.relu("1")]),
            G.seq("fc2", [G.linear("0", 84), G.relu("1")]),
            G.linear("fc", classes),
        ])
    }
}
