import Testing
@testable import StrataCore

/// The multi-branch containers: values against the same layers run by hand, finite-difference
/// gradients, and recipe reading with its errors.
@Suite("Multi-branch containers")
struct LayerGraphTests {
    let checker = GradientChecker()

    func layer(_ json: String) throws -> any Layer {
        let builder = ModelBuilder(registry: .builtIn(), diagnostics: Diagnostics())
        return try builder.build(try JSONParser.parse(json), path: "$.model")
    }

    func errors(_ json: String) throws -> [String] {
        let diagnostics = Diagnostics()
        _ = ModelBuilder(registry: .builtIn(), diagnostics: diagnostics).layer(try JSONParser.parse(json), path: "$.model")
        return diagnostics.errors.map { "\($0.path): \($0.message)" }
    }

    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var r = RandomStream(seed: seed)
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t[i] = Float(r.normal()) }
        return t
    }

    /// Concatenating two convolutions' outputs along channels equals running them by hand, and
    /// the input gradient is the sum of the two branches' input gradients.
    @Test func concatMatchesBranchesByHand() throws {
        let a = Conv2d(outChannels: 2, kernelSize: (3, 3), padding: (1, 1))
        let b = Conv2d(outChannels: 3, kernelSize: (1, 1))
        let g = LayerGraph(kind: "concat", nodes: [.init(name: "a", layer: a, inputs: [0]), .init(name: "b", layer: b, inputs: [0])],
                           outputInputs: [1, 2], outputCombine: .concat)
        var context = BuildContext(seed: 3)
        #expect(try g.build(inputShape: [2, 4, 5, 5], context: &context) == [2, 5, 5, 5])
        let x = random([2, 4, 5, 5], seed: 1)
        let y = Tensor(shape: [2, 5, 5, 5])
        try g.forward(input: x, output: y, training: true)
        let ya = Tensor(shape: [2, 2, 5, 5]), yb = Tensor(shape: [2, 3, 5, 5])
        try a.forward(input: x, output: ya, training: true)
        try b.forward(input: x, output: yb, training: true)
        for e in 0..<2 {
            #expect(Array(y.array()[(e * 125)..<(e * 125 + 50)]) == Array(ya.array()[(e * 50)..<(e * 50 + 50)]))
            #expect(Array(y.array()[(e * 125 + 50)..<(e * 125 + 125)]) == Array(yb.array()[(e * 75)..<(e * 75 + 75)]))
        }
        let dy = random([2, 5, 5, 5], seed: 2)
        let dx = Tensor(shape: x.shape)
        try g.backward(input: x, output: y, gradOutput: dy, gradInput: dx)
        let dya = Tensor(shape: ya.shape), dyb = Tensor(shape: yb.shape)
        ChannelSlices.scatter(dy, offset: 0, count: 2, into: dya, accumulate: false)
        ChannelSlices.scatter(dy, offset: 2, count: 3, into: dyb, accumulate: false)
        let dxa = Tensor(shape: x.shape), dxb = Tensor(shape: x.shape)
        try a.backward(input: x, output: ya, gradOutput: dya, gradInput: dxa)
        try b.backward(input: x, output: yb, gradOutput: dyb, gradInput: dxb)
        assertClose(dx.array(), zip(dxa.array(), dxb.array()).map(+), rtol: 1e-6, atol: 1e-6, "concat dx")
    }

    /// A graph whose output adds the input and a body is the identity residual, value for value.
    @Test func graphAddIsResidual() throws {
        let json = """
        {"kind": "graph", "nodes": [
          {"name": "body", "inputs": ["input"], "layer": {"kind": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1}}],
         "output": {"inputs": ["input", "body"], "combine": "add"}}
        """
        let g = try layer(json)
        let body = Conv2d(outChannels: 3, kernelSize: (3, 3), padding: (1, 1))
        let r = Residual(body: body)
        var c1 = BuildContext(seed: 5), c2 = BuildContext(seed: 5)
        _ = try g.build(inputShape: [2, 3, 4, 4], context: &c1)
        _ = try r.build(inputShape: [2, 3, 4, 4], context: &c2)
        #expect(g.namedParameters().map(\.name) == ["body.weight", "body.bias"])
        let x = random([2, 3, 4, 4], seed: 7)
        let y1 = Tensor(shape: x.shape), y2 = Tensor(shape: x.shape)
        try g.forward(input: x, output: y1, training: true)
        try r.forward(input: x, output: y2, training: true)
        #expect(y1.array() == y2.array())
        let dy = random(x.shape, seed: 8)
        let d1 = Tensor(shape: x.shape), d2 = Tensor(shape: x.shape)
        try g.backward(input: x, output: y1, gradOutput: dy, gradInput: d1)
        try r.backward(input: x, output: y2, gradOutput: dy, gradInput: d2)
        assertClose(d1.array(), d2.array(), rtol: 1e-6, atol: 1e-6, "graph add dx")
    }

    @Test func gradients() throws {
        let inception = try layer("""
        {"kind": "concat", "branches": [
          {"kind": "conv2d", "name": "b1", "out_channels": 2, "kernel_size": 1},
          {"kind": "sequential", "name": "b2", "layers": [{"kind": "conv2d", "out_channels": 2, "kernel_size": 1}, {"kind": "tanh"},
                                                        {"kind": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1}]},
          {"kind": "sequential", "name": "b4", "layers": [{"kind": "maxpool2d", "kernel_size": 3, "stride": 1, "padding": 1},
                                                        {"kind": "conv2d", "out_channels": 1, "kernel_size": 1}]}]}
        """)
        try checker.check(inception, inputShape: [2, 3, 5, 5], inputScale: 3)
        let dense = try layer("""
        {"kind": "dense_concat", "layers": [
          {"kind": "sequential", "layers": [{"kind": "batchnorm2d"}, {"kind": "tanh"}, {"kind": "conv2d", "out_channels": 2, "kernel_size": 3, "padding": 1}]},
          {"kind": "sequential", "layers": [{"kind": "batchnorm2d"}, {"kind": "tanh"}, {"kind": "conv2d", "out_channels": 2, "kernel_size": 3, "padding": 1}]},
          {"kind": "sequential", "layers": [{"kind": "batchnorm2d"}, {"kind": "tanh"}, {"kind": "conv2d", "out_channels": 2, "kernel_size": 3, "padding": 1}]}]}
        """)
        try checker.check(dense, inputShape: [3, 2, 4, 4])
        // A diamond: two nodes read the same value, and the output adds and concatenates.
        let diamond = try layer("""
        {"kind": "graph", "nodes": [
          {"name": "stem", "layer": {"kind": "conv2d", "out_channels": 2, "kernel_size": 3, "padding": 1}},
          {"name": "left", "inputs": ["stem"], "layer": {"kind": "tanh"}},
          {"name": "right", "inputs": ["stem", "input"], "layer": {"kind": "conv2d", "out_channels": 2, "kernel_size": 1}},
          {"name": "sum", "inputs": ["left", "right", "stem"], "combine": "add", "layer": {"kind": "sigmoid"}}],
         "output": {"inputs": ["sum", "input"]}}
        """)
        try checker.check(diamond, inputShape: [2, 3, 4, 4])
        try checker.check(try layer(#"{"kind": "adaptive_concat_pool2d", "output_size": 2}"#), inputShape: [2, 3, 5, 5], inputScale: 10)
    }

    @Test func denseConcatShapesAndNames() throws {
        let dense = try layer("""
        {"kind": "dense_concat", "layers": [
          {"kind": "conv2d", "name": "denselayer1", "out_channels": 4, "kernel_size": 3, "padding": 1},
          {"kind": "conv2d", "name": "denselayer2", "out_channels": 4, "kernel_size": 3, "padding": 1}]}
        """)
        var context = BuildContext(seed: 0)
        #expect(try dense.build(inputShape: [2, 3, 6, 6], context: &context) == [2, 11, 6, 6])
        let shapes = dense.namedParameters().map { "\($0.name) \($0.parameter.value.shape)" }
        #expect(shapes == ["denselayer1.weight [4, 3, 3, 3]", "denselayer1.bias [4]", "denselayer2.weight [4, 7, 3, 3]", "denselayer2.bias [4]"])
    }

    /// fast.ai's AdaptiveConcatPool2d: max pooled channels first, then average pooled.
    @Test func adaptiveConcatPool() throws {
        let pool = try layer(#"{"kind": "adaptive_concat_pool2d"}"#)
        var context = BuildContext(seed: 0)
        #expect(try pool.build(inputShape: [1, 2, 2, 2], context: &context) == [1, 4, 1, 1])
        let x = Tensor(shape: [1, 2, 2, 2], values: [1, 2, 3, 6, -1, -2, -3, -6])
        let y = Tensor(shape: [1, 4, 1, 1])
        try pool.forward(input: x, output: y, training: false)
        #expect(y.array() == [6, -1, 3, -3])
    }

    @Test func recipeErrors() throws {
        let unknown = try errors("""
        {"kind": "graph", "nodes": [{"name": "a", "inputs": ["b"], "layer": {"kind": "relu"}}, {"name": "b", "layer": {"kind": "relu"}}]}
        """)
        #expect(unknown == [#"$.model.nodes[0].inputs[0]: "b" is not "input" or an earlier node"#])
        let duplicate = try errors(#"{"kind": "graph", "nodes": [{"name": "a", "layer": {"kind": "relu"}}, {"name": "a", "layer": {"kind": "relu"}}]}"#)
        #expect(duplicate == [#"$.model.nodes[1].name: duplicate node name "a""#])
        let combine = try errors(#"{"kind": "graph", "nodes": [{"layer": {"kind": "relu"}, "combine": "mul"}]}"#)
        #expect(combine.count == 1 && combine[0].hasPrefix("$.model.nodes[0].combine: unknown value \"mul\""))
        #expect(try errors(#"{"kind": "concat", "branches": []}"#) == ["$.model.branches: expected a non-empty array of layers"])
        let notObject = try errors(#"{"kind": "graph", "nodes": [3]}"#)
        #expect(notObject.count == 1 && notObject[0].hasPrefix("$.model.nodes[0]: expected a node object, got"), "\(notObject)")
        // Shapes that cannot be combined are a shape error, not a trap.
        let mismatch = try layer("""
        {"kind": "graph", "nodes": [{"name": "a", "layer": {"kind": "conv2d", "out_channels": 2, "kernel_size": 3}}],
         "output": {"inputs": ["a", "input"], "combine": "add"}}
        """)
        var context = BuildContext(seed: 0)
        #expect(throws: ShapeError.self) { _ = try mismatch.build(inputShape: [1, 2, 5, 5], context: &context) }
        let unused = try layer(#"{"kind": "graph", "nodes": [{"name": "a", "layer": {"kind": "relu"}}, {"name": "b", "inputs": ["input"], "layer": {"kind": "relu"}}]}"#)
        do {
            _ = try unused.build(inputShape: [1, 2], context: &context)
            Issue.record("an unused node was accepted")
        } catch let e as ShapeError {
            #expect(e.message == "node a's output is read by no node and not by the output")
        }
    }
}
