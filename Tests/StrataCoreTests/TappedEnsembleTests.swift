import Foundation
import Testing
@testable import StrataCore

/// Counts forward and backward calls and passes its input through: shows which trunk children run.
private final class CountingIdentity: Layer {
    let kind = "counting_identity"
    var forwards = 0
    var backwards = 0
    func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] { inputShape }
    func forward(input: Tensor, output: Tensor, training: Bool) throws {
        forwards += 1
        output.copy(from: input)
    }
    func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        backwards += 1
        gradInput?.copy(from: gradOutput)
    }
}

@Suite("tapped_ensemble: BoostResNet's ensemble prediction")
struct TappedEnsembleTests {
    // MARK: - A tiny network with set weights

    /// x [N, 2] → trunk: a1 = x·W1ᵀ, a2 = a1·W2ᵀ (no biases); head0 = a1·H0ᵀ + c0, head1 = a2·H1ᵀ + c1.
    static let w1: [Float] = [1, 1, 0, 1]
    static let w2: [Float] = [0.5, 0, 0, -1]
    static let h0: [Float] = [1, 0, 0, 1, 1, -1]        // 3×2
    static let c0: [Float] = [0, 0.5, 0]
    static let h1: [Float] = [1, 1, 0, 1, -1, 0]        // 3×2
    static let c1: [Float] = [0, 0, 0.25]
    static let alphas: [Float] = [0.75, 1.5]
    static let x2: [Float] = [1, 2, 3, -1]
    /// The logits of the two heads for `x2`, worked out by hand:
    /// a1 = [[3, 2], [2, -1]], a2 = [[1.5, -2], [1, 1]].
    static let z0: [Double] = [3, 2.5, 1, 2, -0.5, 3]
    static let z1: [Double] = [-0.5, -2, -1.25, 2, 1, -0.75]

    static func tiny(classes k: Int = 3, combine: TappedEnsemble.Combine, output: TappedEnsemble.Output,
                     batchBlock: Int = 100, maxBatch: Int = 2) throws -> TappedEnsemble {
        let layers = [Linear(outFeatures: 2, bias: false), Linear(outFeatures: 2, bias: false),
                      Linear(outFeatures: k), Linear(outFeatures: k)]
        let net = TappedEnsemble(trunk: [layers[0], layers[1]],
                                heads: [.init(tap: 1, alpha: alphas[0], layer: layers[2]),
                                        .init(tap: 2, alpha: alphas[1], layer: layers[3])],
                                combine: combine, output: output, batchBlock: batchBlock)
        var context = BuildContext(seed: 3)
        #expect(try net.build(inputShape: [maxBatch, 2], context: &context) == [maxBatch, k])
        func set(_ t: Tensor, _ v: [Float]) { for (i, x) in v.enumerated() { t[i] = x } }
        set(layers[0].weight.value, w1)
        set(layers[1].weight.value, w2)
        set(layers[2].weight.value, Array(h0.prefix(2 * k)))
        set(layers[2].bias!.value, Array(c0.prefix(k)))
        set(layers[3].weight.value, Array(h1.prefix(2 * k)))
        set(layers[3].bias!.value, Array(c1.prefix(k)))
        return net
    }

    static func run(_ net: TappedEnsemble, _ x: [Float], rows: Int) throws -> [Float] {
        let input = Tensor(shape: [rows, 2], values: x)
        let y = Tensor(shape: [rows, net.heads.count == 0 ? 0 : (net.heads[0].layer as! Linear).outFeatures])
        try net.forward(input: input, output: y, training: false)
        return y.array()
    }

    static func softmaxRows(_ z: [Double], k: Int) -> [Double] {
        stride(from: 0, to: z.count, by: k).flatMap { r -> [Double] in
            let row = z[r..<(r + k)]
            let e = row.map { exp($0) }
            let s = e.reduce(0, +)
            return e.map { $0 / s }
        }
    }

    static func expectClose(_ got: [Float], _ want: [Double], tolerance: Double = 1e-5,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == want.count, sourceLocation: sourceLocation)
        for (i, (g, w)) in zip(got, want).enumerated() {
            #expect(abs(Double(g) - w) <= tolerance * max(1, abs(w)), "[\(i)]: got \(g), want \(w)", sourceLocation: sourceLocation)
        }
    }

    @Test func logitsAreTheHandComputedValues() throws {
        let a0 = Double(Self.alphas[0]), a1 = Double(Self.alphas[1])
        let tele = try Self.run(Self.tiny(combine: .telescoping, output: .logits), Self.x2, rows: 2)
        Self.expectClose(tele, Self.z1.map { a1 * $0 })
        // α0·z0 + α1·z1, by hand: row 0 = [1.5, -1.125, -1.125], row 1 = [4.5, 1.125, 1.125].
        let cum = try Self.run(Self.tiny(combine: .cumulative, output: .logits), Self.x2, rows: 2)
        Self.expectClose(cum, [1.5, -1.125, -1.125, 4.5, 1.125, 1.125])
        Self.expectClose(cum, zip(Self.z0, Self.z1).map { a0 * $0 + a1 * $1 })
    }

    @Test func telescopingIsTheLastHeadsWeightedSoftmax() throws {
        let y = try Self.run(Self.tiny(combine: .telescoping, output: .softmax), Self.x2, rows: 2)
        Self.expectClose(y, Self.softmaxRows(Self.z1, k: 3).map { Double(Self.alphas[1]) * $0 })
        // Each row sums to α_last.
        #expect(abs(y[0] + y[1] + y[2] - Self.alphas[1]) < 1e-5)
    }

    @Test func cumulativeSumsEveryHeadsWeightedSoftmax() throws {
        let y = try Self.run(Self.tiny(combine: .cumulative, output: .softmax), Self.x2, rows: 2)
        let s0 = Self.softmaxRows(Self.z0, k: 3), s1 = Self.softmaxRows(Self.z1, k: 3)
        Self.expectClose(y, zip(s0, s1).map { Double(Self.alphas[0]) * $0 + Double(Self.alphas[1]) * $1 })
        #expect(abs(y[3] + y[4] + y[5] - (Self.alphas[0] + Self.alphas[1])) < 1e-5)
    }

    @Test func binaryColumnsAreMinusAndPlusTanhOfTheLogitDifference() throws {
        // Two logits per head: the first two rows of each head's weights.
        let z0 = [3.0, 2.5, 2, -0.5], z1 = [-0.5, -2, 2, 1]
        let m0 = [tanh(z0[1] - z0[0]), tanh(z0[3] - z0[2])], m1 = [tanh(z1[1] - z1[0]), tanh(z1[3] - z1[2])]
        let a0 = Double(Self.alphas[0]), a1 = Double(Self.alphas[1])
        let tele = try Self.run(Self.tiny(classes: 2, combine: .telescoping, output: .binary), Self.x2, rows: 2)
        Self.expectClose(tele, [-a1 * m1[0], a1 * m1[0], -a1 * m1[1], a1 * m1[1]])
        let cum = try Self.run(Self.tiny(classes: 2, combine: .cumulative, output: .binary), Self.x2, rows: 2)
        let m = [a0 * m0[0] + a1 * m1[0], a0 * m0[1] + a1 * m1[1]]
        Self.expectClose(cum, [-m[0], m[0], -m[1], m[1]])
    }

    @Test func batchSoftmaxNormalisesEachColumnWithinBlocksOfRows() throws {
        // Five rows in blocks of 2: rows {0, 1}, {2, 3} and {4}.
        let x: [Float] = [1, 2, 3, -1, 0.5, 0.25, -2, 1, 0.3, -0.7]
        let net = try Self.tiny(combine: .telescoping, output: .batchSoftmax, batchBlock: 2, maxBatch: 5)
        let y = try Self.run(net, x, rows: 5)
        let alpha = Double(Self.alphas[1])
        for (start, rows) in [(0, 2), (2, 2), (4, 1)] {
            for c in 0..<3 {
                let sum = (start..<(start + rows)).map { Double(y[$0 * 3 + c]) }.reduce(0, +)
                #expect(abs(sum - alpha) < 1e-5, "block at \(start), column \(c): \(sum)")
            }
        }
        // Rows 0 and 1 are the tiny network's inputs: their logits are z1, softmaxed per column.
        for c in 0..<3 {
            let e0 = exp(Self.z1[c]), e1 = exp(Self.z1[3 + c])
            #expect(abs(Double(y[c]) - alpha * e0 / (e0 + e1)) < 1e-5)
            #expect(abs(Double(y[3 + c]) - alpha * e1 / (e0 + e1)) < 1e-5)
        }
        // A smaller batch views the same buffers: blocks restart at row 0.
        let y2 = try Self.run(net, Array(x.prefix(4)), rows: 2)
        Self.expectClose(y2, y.prefix(6).map(Double.init))
    }

    @Test func trunkChildrenAfterTheLastUsedTapDoNotRun() throws {
        let spies = [CountingIdentity(), CountingIdentity(), CountingIdentity()]
        let net = TappedEnsemble(trunk: spies, heads: [.init(tap: 2, alpha: 1, layer: Linear(outFeatures: 3)),
                                                      .init(tap: 1, alpha: 1, layer: Linear(outFeatures: 3))],
                                combine: .telescoping)
        var context = BuildContext(seed: 1)
        _ = try net.build(inputShape: [2, 4], context: &context)
        let x = Tensor(shape: [2, 4], values: (0..<8).map(Float.init))
        let y = Tensor(shape: [2, 3])
        try net.forward(input: x, output: y, training: true)
        try net.backward(input: x, output: y, gradOutput: Tensor(shape: [2, 3]), gradInput: Tensor(shape: [2, 4]))
        #expect(spies.map(\.forwards) == [1, 0, 0])
        #expect(spies.map(\.backwards) == [1, 0, 0])
        #expect(net.depth == 1)
    }

    @Test func parametersListTheTrunkThenTheHeadsInOrder() throws {
        let net = TappedEnsemble(trunk: [("stem", Linear(outFeatures: 4)), ("act", Activation(.tanh)), ("block", Linear(outFeatures: 4, bias: false))],
                                heads: [.init(tap: 3, alpha: 1, layer: Linear(outFeatures: 2)),
                                        .init(tap: 1, alpha: 1, layer: Sequential([Linear(outFeatures: 2, bias: false)]))],
                                combine: .cumulative)
        var context = BuildContext(seed: 1)
        _ = try net.build(inputShape: [3, 5], context: &context)
        #expect(net.namedParameters().map(\.name)
                == ["stem.weight", "stem.bias", "block.weight", "head0.weight", "head0.bias", "head1.0.weight"])
    }

    // MARK: - Finite differences

    let checker = GradientChecker()

    /// A trunk with a nonlinearity and three heads: two read the same activation, one reads the first.
    static func gradientNet(_ combine: TappedEnsemble.Combine, _ output: TappedEnsemble.Output, classes k: Int = 3,
                            lastTap: Int = 3) -> TappedEnsemble {
        TappedEnsemble(trunk: [Linear(outFeatures: 4), Activation(.tanh), Linear(outFeatures: 4)],
                      heads: [.init(tap: 1, alpha: 0.7, layer: Linear(outFeatures: k)),
                              .init(tap: 3, alpha: -0.4, layer: Linear(outFeatures: k)),
                              .init(tap: lastTap, alpha: 1.3,
                                    layer: Sequential([Linear(outFeatures: 5), Activation(.tanh), Linear(outFeatures: k)]))],
                      combine: combine, output: output, batchBlock: 2)
    }

    @Test(arguments: [TappedEnsemble.Output.softmax, .batchSoftmax, .binary, .logits])
    func gradientsMatchFiniteDifferences(output: TappedEnsemble.Output) throws {
        let k = output == .binary ? 2 : 3
        for combine in TappedEnsemble.Combine.allCases {
            try checker.check(Self.gradientNet(combine, output, classes: k), inputShape: [5, 3])
            // The last head reads the middle of the trunk: the top trunk child neither runs nor learns.
            try checker.check(Self.gradientNet(combine, output, classes: k, lastTap: 2), inputShape: [5, 3])
        }
    }

    @Test func gradientsOfAConvolutionalTrunk() throws {
        let head = { Sequential([GlobalPool2d(.average), Flatten(), Linear(outFeatures: 3)]) }
        let net = TappedEnsemble(trunk: [Conv2d(outChannels: 3, kernelSize: (3, 3), padding: (1, 1)), Activation(.tanh),
                                        Residual(body: Conv2d(outChannels: 3, kernelSize: (3, 3), padding: (1, 1)))],
                                heads: [.init(tap: 2, alpha: 0.5, layer: head()), .init(tap: 3, alpha: 1.2, layer: head())],
                                combine: .cumulative, output: .softmax)
        try checker.check(net, inputShape: [2, 2, 5, 5])
    }

    // MARK: - Recipes

    let registry = ComponentRegistry.builtIn()

    func errors(_ model: String) throws -> [String] {
        let file = RecipeFixtures.write(#"{"epochs": 1, "optimizer": {"kind": "sgd", "lr": 0.1}, "model": "# + model + "}")
        do {
            let r = try Recipe.load(file: file, registry: registry)
            _ = try Experiment(recipe: r, registry: registry, file: file)
            return []
        } catch let e as RecipeValidationError {
            return e.errors.map(\.description)
        }
    }

    static let trunk = #"[{"kind": "flatten"}, {"kind": "linear", "out_features": 16, "name": "fc"}, {"kind": "relu"}]"#

    @Test func kindIsRegistered() {
        let entry = registry.layers["tapped_ensemble"]
        #expect(entry?.origin == "built-in")
        #expect(entry?.summary.isEmpty == false)
    }

    @Test func aRecipeBuildsAndNamesItsParameters() throws {
        let file = RecipeFixtures.write(#"{"epochs": 1, "batch_size": 8, "optimizer": {"kind": "sgd", "lr": 0.1}, "model":"#
            + #"{"kind": "tapped_ensemble", "trunk": "# + Self.trunk + #", "combine": "cumulative", "heads": ["#
            + #"{"tap": 2, "alpha": 0.5, "layers": {"kind": "linear", "out_features": 10}},"#
            + #"{"tap": 3, "alpha": 2, "layers": {"kind": "sequential", "layers": [{"kind": "linear", "out_features": 10}]}}]}}"#)
        let r = try Recipe.load(file: file, registry: registry)
        let experiment = try Experiment(recipe: r, registry: registry, file: file)
        #expect(experiment.model.namedParameters.map(\.name)
                == ["fc.weight", "fc.bias", "head0.weight", "head0.bias", "head1.0.weight", "head1.0.bias"])
        #expect(experiment.model.outputExampleShape == [10])
        let net = try #require(experiment.model.root as? TappedEnsemble)
        #expect(net.combine == .cumulative && net.output == .softmax && net.heads.map(\.alpha) == [0.5, 2])
    }

    @Test func theDocumentedExampleBuilds() throws {
        let page = try String(contentsOf: RecipeFixtures.repositoryRoot.appendingPathComponent("docs/recipes.md"), encoding: .utf8)
        let section = try #require(page.components(separatedBy: "#### `tapped_ensemble`").dropFirst().first)
        let example = try #require(section.components(separatedBy: "```json\n").dropFirst().first?.components(separatedBy: "```").first)
        let file = RecipeFixtures.write(#"{"epochs": 1, "batch_size": 4, "optimizer": {"kind": "sgd", "lr": 0.1}, "model": "# + example + "}")
        let r = try Recipe.load(file: file, registry: registry)
        let experiment = try Experiment(recipe: r, registry: registry, file: file)
        #expect(experiment.model.namedParameters.map(\.name)
                == ["stem.0.weight", "stem.0.bias", "block1.body.0.weight", "block1.body.0.bias", "head0.2.weight", "head0.2.bias"])
    }

    @Test func aBadTapNamesItsJSONPath() throws {
        let found = try errors(#"{"kind": "tapped_ensemble", "trunk": "# + Self.trunk + #", "heads": ["#
            + #"{"tap": 1, "alpha": 1, "layers": {"kind": "linear", "out_features": 10}},"#
            + #"{"tap": 5, "alpha": 1, "layers": {"kind": "linear", "out_features": 10}},"#
            + #"{"tap": 0, "layers": {"kind": "linear", "out_features": 10}}]}"#)
        #expect(found.contains("$.model.heads[1].tap: must be between 1 and 3 (the trunk has 3 children), got 5"), "\(found)")
        #expect(found.contains("$.model.heads[2].tap: must be between 1 and 3 (the trunk has 3 children), got 0"), "\(found)")
        #expect(found.count == 2, "\(found)")
    }

    @Test func otherRecipeMistakesNameTheirJSONPaths() throws {
        let found = try errors(#"{"kind": "tapped_ensemble", "trunk": [{"kind": "relu", "name": "head0"}, {"kind": "tanh"}],"#
            + #" "output": "binary", "batch": 10, "combine": "sum", "heads": ["#
            + #"{"tap": 1.5, "layers": {"kind": "linear"}},"#
            + #"{"tap": 2, "alpha": "big", "weight": 1},"#
            + #"7]}"#)
        let expected = [
            "$.model.trunk[0].name: \"head0\" is reserved for the heads (head0, head1, …); give this trunk layer another name",
            "$.model.heads[0].tap: expected an integer, got 1.5",
            "$.model.heads[0].layers.out_features: is required",
            "$.model.heads[1].alpha: expected a number, got string \"big\"",
            "$.model.heads[1].layers: is required (the head: one layer, e.g. a sequential ending in a linear layer)",
            "$.model.heads[2]: expected an object, got number 7",
            "$.model.combine: unknown value \"sum\"; expected one of \"telescoping\", \"cumulative\"",
            "$.model.batch: only applies to the \"batch_softmax\" output (output is \"binary\")",
        ]
        for e in expected { #expect(found.contains(e), "missing: \(e)\nfound: \(found)") }
        #expect(found.contains { $0.hasPrefix("$.model.heads[1].weight: unknown key") }, "\(found)")
        #expect(try errors(#"{"kind": "tapped_ensemble"}"#) == [
            "$.model.trunk: is required (a non-empty array of layers)",
            "$.model.heads: is required (a non-empty array of {\"tap\", \"alpha\", \"layers\"})",
        ])
    }

    @Test func headsGivingDifferentClassCountsAreShapeErrors() throws {
        let file = RecipeFixtures.write(#"{"epochs": 1, "batch_size": 8, "optimizer": {"kind": "sgd", "lr": 0.1}, "model":"#
            + #"{"kind": "tapped_ensemble", "trunk": "# + Self.trunk + #", "combine": "cumulative", "heads": ["#
            + #"{"tap": 2, "layers": {"kind": "linear", "out_features": 10}},"#
            + #"{"tap": 3, "layers": {"kind": "linear", "out_features": 7}}]}}"#)
        let r = try Recipe.load(file: file, registry: registry)
        #expect(throws: CoreError.shape(where: "$.model: model (tapped_ensemble)",
                                          message: "head1 gives 7 classes but head0 gives 10; every head must give the same number of classes")) {
            try Experiment(recipe: r, registry: registry, file: file)
        }
    }

    @Test func binaryNeedsTwoClasses() throws {
        let net = TappedEnsemble(trunk: [Linear(outFeatures: 3)], heads: [.init(tap: 1, layer: Linear(outFeatures: 3))], output: .binary)
        var context = BuildContext(seed: 1)
        #expect(throws: ShapeError.self) { try net.build(inputShape: [2, 4], context: &context) }
    }
}
