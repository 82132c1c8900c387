import CStrataKernels

/// A directed acyclic graph of layers: the general multi-branch container.
///
/// Values are numbered: 0 is the graph's input, node i's output is value i + 1. Each node reads
/// one value, or several combined by channel concatenation (`concat`, along dimension 1) or by
/// elementwise sum (`add`); the graph's output combines values the same way. Nodes come in an
/// order where every node reads only the input and earlier nodes, so forward runs them in order
/// and backward in reverse.
///
/// This covers Inception (branches reading the input, output `concat` of the branches),
/// DenseNet (node i reads the `concat` of the input and every earlier node) and the residual add
/// (output `add` of the input and a body). Recipes write it as `graph`, or through the shorthands
/// `concat` and `dense_concat`; `kind` keeps the name the recipe used.
///
/// Buffers, planned once at build for the largest batch:
/// - each node's output `[N, ...]`, and for a node with several inputs, its combined input;
/// - the gradient of each value and of each combined input, and one scratch per node for a
///   second contribution to a gradient (gradients of values read by several nodes add up).
/// A combined input is written by copying each value into its channel slice (one contiguous
/// `C_i·H·W` block per example); the last combination writes straight into the caller's output.
public final class LayerGraph: Layer {
    public enum Combine: String, Sendable { case concat, add }

    public struct Node {
        public let name: String
        public let layer: any Layer
        /// Values read (0 = the graph's input, i + 1 = node i), combined by `combine` when several.
        public let inputs: [Int]
        public let combine: Combine
        public init(name: String, layer: any Layer, inputs: [Int], combine: Combine = .concat) {
            self.name = name
            self.layer = layer
            self.inputs = inputs
            self.combine = combine
        }
    }

    public let kind: String
    public let nodes: [Node]
    public let outputInputs: [Int]
    public let outputCombine: Combine

    /// Shape of every value at the largest batch (value 0 is the input).
    private var valueShapes: [[Int]] = []
    /// Planned output of each node, and combined input of each node that reads several values.
    private var nodeOutputs: [Tensor] = []
    private var combinedInputs: [Tensor?] = []
    /// Gradients: of each node's output, of each combined input, and a scratch per value shape.
    private var valueGradients: [Tensor] = []
    private var combinedGradients: [Tensor?] = []
    private var scratch: [Tensor] = []

    public init(kind: String = "graph", nodes: [Node], outputInputs: [Int], outputCombine: Combine) {
        self.kind = kind
        self.nodes = nodes
        self.outputInputs = outputInputs
        self.outputCombine = outputCombine
    }

    public var children: [(name: String, layer: any Layer)] { nodes.map { ($0.name, $0.layer) } }

    /// Floats planned (at the largest batch) for the combined inputs of nodes that read several
    /// values and for their gradients: what concatenating by copies costs in memory, on top of
    /// the node outputs. Zero for a graph whose nodes each read one value.
    public var combinationFloats: Int {
        (combinedInputs + combinedGradients).reduce(0) { $0 + ($1?.count ?? 0) }
    }

    // MARK: build

    /// The shape of `values` combined by `combine`, or a shape error naming `what`.
    static func combinedShape(_ shapes: [[Int]], _ combine: Combine, what: String) throws -> [Int] {
        guard var result = shapes.first else { throw ShapeError("\(what) reads no value") }
        if shapes.count == 1 { return result }
        switch combine {
        case .add:
            for s in shapes.dropFirst() where s != result {
                throw ShapeError("\(what) adds outputs of shapes \(describe(shapes[0])) and \(describe(s)); they must match")
            }
        case .concat:
            for s in shapes {
                guard s.count >= 2 else { throw ShapeError("\(what) concatenates along channels, but an input has shape \(describe(s))") }
                guard s.count == result.count, s[0] == result[0], Array(s.dropFirst(2)) == Array(result.dropFirst(2)) else {
                    throw ShapeError("\(what) concatenates along channels outputs of shapes \(describe(shapes[0])) and \(describe(s)); all but the channels must match")
                }
            }
            result[1] = shapes.reduce(0) { $0 + $1[1] }
        }
        return result
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard !nodes.isEmpty else { throw ShapeError("a graph needs at least one node") }
        valueShapes = [inputShape]
        nodeOutputs = []
        combinedInputs = []
        combinedGradients = []
        var used = [Bool](repeating: false, count: nodes.count + 1)
        for (i, node) in nodes.enumerated() {
            guard !node.inputs.isEmpty, node.inputs.allSatisfy({ $0 >= 0 && $0 <= i }) else {
                throw ShapeError("node \(node.name) reads a value that is not the input or an earlier node")
            }
            for v in node.inputs { used[v] = true }
            let inShape = try Self.combinedShape(node.inputs.map { valueShapes[$0] }, node.combine, what: "node \(node.name)")
            if node.inputs.count > 1 {
                try context.reserve(inShape, for: "the combined input of node \(node.name)")
                try context.reserve(inShape, for: "the gradient of the combined input of node \(node.name)")
                combinedInputs.append(Tensor(shape: inShape))
                combinedGradients.append(Tensor(shape: inShape))
            } else {
                combinedInputs.append(nil)
                combinedGradients.append(nil)
            }
            let outShape = try buildChild(node.layer, name: node.name, inputShape: inShape, context: &context)
            try context.reserve(outShape, for: "the output of node \(node.name)")
            try context.reserve(outShape, for: "the output gradient of node \(node.name)")
            nodeOutputs.append(Tensor(shape: outShape))
            valueShapes.append(outShape)
        }
        guard !outputInputs.isEmpty, outputInputs.allSatisfy({ $0 >= 0 && $0 <= nodes.count }) else {
            throw ShapeError("the graph's output reads a value that is not the input or a node")
        }
        for v in outputInputs { used[v] = true }
        if let unused = (1...nodes.count).first(where: { !used[$0] }) {
            throw ShapeError("node \(nodes[unused - 1].name)'s output is read by no node and not by the output")
        }
        valueGradients = nodeOutputs.map { Tensor(shape: $0.shape) }
        // One scratch as large as the largest value: a second contribution to any gradient.
        let largest = valueShapes.map { $0.reduce(1, *) }.max() ?? 1
        try context.reserve([largest], for: "the graph's gradient scratch")
        scratch = [Tensor(shape: [largest])]
        return try Self.combinedShape(outputInputs.map { valueShapes[$0] }, outputCombine, what: "the graph's output")
    }

    // MARK: forward

    private func value(_ v: Int, input: Tensor, batch: Int) -> Tensor {
        v == 0 ? input : nodeOutputs[v - 1].batchPrefix(batch)
    }

    /// Writes the combination of `sources` into `destination` (same batch).
    static func combine(_ sources: [Tensor], _ mode: Combine, into destination: Tensor) {
        if sources.count == 1 { destination.copy(from: sources[0]); return }
        switch mode {
        case .add:
            sk_add(destination.data, sources[0].data, sources[1].data, Int64(destination.count))
            for s in sources.dropFirst(2) { sk_add_inplace(destination.data, s.data, Int64(destination.count)) }
        case .concat:
            ChannelSlices.gather(sources, into: destination)
        }
    }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        let n = input.shape[0]
        for (i, node) in nodes.enumerated() {
            let x: Tensor
            if let combined = combinedInputs[i]?.batchPrefix(n) {
                Self.combine(node.inputs.map { value($0, input: input, batch: n) }, node.combine, into: combined)
                x = combined
            } else {
                x = value(node.inputs[0], input: input, batch: n)
            }
            try node.layer.forward(input: x, output: nodeOutputs[i].batchPrefix(n), training: training)
        }
        Self.combine(outputInputs.map { value($0, input: input, batch: n) }, outputCombine, into: output)
    }

    // MARK: backward

    /// Adds (or, for the first contribution, writes) `gradient`'s part for value `v` into the
    /// value's gradient. `part` selects the channel slice for a concatenation.
    private func contribute(_ gradient: Tensor, channels part: (offset: Int, count: Int)?, to target: Tensor,
                            first: Bool) {
        if let part {
            ChannelSlices.scatter(gradient, offset: part.offset, count: part.count, into: target, accumulate: !first)
        } else if first {
            target.copy(from: gradient)
        } else {
            sk_add_inplace(target.data, gradient.data, Int64(target.count))
        }
    }

    /// Distributes the gradient of a combination of `inputs` to their gradients.
    private func distribute(_ gradient: Tensor, over inputs: [Int], _ mode: Combine, gradients: [Tensor?],
                            written: inout [Bool], batch: Int) {
        var offset = 0
        for v in inputs {
            let channels = valueShapes[v].count > 1 ? valueShapes[v][1] : 0
            defer { offset += channels }
            guard let target = gradients[v] else { continue }
            let part: (Int, Int)? = inputs.count > 1 && mode == .concat ? (offset, channels) : nil
            contribute(gradient, channels: part, to: target, first: !written[v])
            written[v] = true
        }
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        let n = input.shape[0]
        // Gradient of each value: value 0's is the caller's (may be nil), the others are planned.
        let gradients: [Tensor?] = [gradInput] + valueGradients.map { $0.batchPrefix(n) }
        var written = [Bool](repeating: false, count: nodes.count + 1)
        distribute(gradOutput, over: outputInputs, outputCombine, gradients: gradients, written: &written, batch: n)
        for i in stride(from: nodes.count - 1, through: 0, by: -1) {
            let node = nodes[i]
            let y = nodeOutputs[i].batchPrefix(n)
            // Every node's output is read (checked at build), so its gradient has been written.
            let gy = gradients[i + 1]!
            if let combined = combinedInputs[i]?.batchPrefix(n), let gCombined = combinedGradients[i]?.batchPrefix(n) {
                try node.layer.backward(input: combined, output: y, gradOutput: gy, gradInput: gCombined)
                distribute(gCombined, over: node.inputs, node.combine, gradients: gradients, written: &written, batch: n)
            } else {
                let v = node.inputs[0]
                let x = value(v, input: input, batch: n)
                guard let target = gradients[v] else {
                    try node.layer.backward(input: x, output: y, gradOutput: gy, gradInput: nil)
                    continue
                }
                if !written[v] {
                    try node.layer.backward(input: x, output: y, gradOutput: gy, gradInput: target)
                    written[v] = true
                } else {
                    let s = scratch[0].storage
                    let part = Tensor(storage: s, shape: target.shape)
                    try node.layer.backward(input: x, output: y, gradOutput: gy, gradInput: part)
                    sk_add_inplace(target.data, part.data, Int64(target.count))
                }
            }
        }
        // An input read by nothing (impossible after build's check) would otherwise stay stale.
        if let gradInput, !written[0] { gradInput.zero() }
    }
}

/// Copies between a tensor concatenated along dimension 1 and its parts: per example, a part is
/// one contiguous block of `C_i·(H·W)` floats at channel offset `offset`.
enum ChannelSlices {
    /// `destination[:, offset_i : offset_i + C_i] = sources[i]` for every source in order.
    static func gather(_ sources: [Tensor], into destination: Tensor) {
        let n = destination.shape[0]
        let total = destination.itemCount
        var offset = 0
        for s in sources {
            let block = s.itemCount
            for e in 0..<n {
                (destination.data + e * total + offset).update(from: s.data + e * block, count: block)
            }
            offset += block
        }
    }

    /// `target (+)= source[:, offset : offset + count]`, where `target` has `count` channels.
    static func scatter(_ source: Tensor, offset: Int, count: Int, into target: Tensor, accumulate: Bool) {
        let n = source.shape[0]
        let total = source.itemCount
        let plane = source.shape.dropFirst(2).reduce(1, *)
        let block = count * plane
        for e in 0..<n {
            let src = source.data + e * total + offset * plane
            let dst = target.data + e * block
            if accumulate { sk_add_inplace(dst, src, Int64(block)) } else { dst.update(from: src, count: block) }
        }
    }
}
