#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CStrataKernels

/// A trunk with tapped heads combined as an ensemble: the prediction of a boosted residual
/// network (Huang et al., ICML 2018, "Learning deep ResNet blocks sequentially using boosting
/// theory"; docs/design-notes.md), or of any model whose auxiliary classifiers read intermediate
/// outputs.
///
/// A *trunk* of children runs in sequence, like a `sequential`. Each *head* `t` reads the output of
/// trunk child `tap − 1` (taps count from 1) and gives logits `z_t [N, K]`, which become the
/// hypothesis-module output `o_t`:
/// - `softmax`: softmax over the classes of each row;
/// - `batchSoftmax`: softmax over the rows, per column, within contiguous blocks of `batchBlock`
///   rows (the reference code's `Softmax(dim=0)`; the last block may be shorter);
/// - `binary`: `m = tanh(z[:,1] − z[:,0])` and `o = [−m, m]` (needs K = 2);
/// - `logits`: `z` itself.
///
/// The output `[N, K]` is `Σ α_t · o_t` over the heads used: only the **last** head for
/// `telescoping` (Lemma 3.2: the ensemble is the final network with its last auxiliary
/// classifier), every head for `cumulative` (the reference code's `s`). Trunk children after the
/// largest tap used are built but never run.
///
/// Children: the trunk's, under their names, then the heads as `head0`, `head1`, … — so
/// `namedParameters()` lists the trunk's parameters first, then head0's, head1's, …
///
/// Memory: every buffer is planned at build for the largest batch — one activation per trunk
/// child that runs, the logits and `o` of every head, two ping-pong trunk-gradient buffers, one
/// scratch for a head's input gradient and one for the logits' gradient — and viewed per batch.
public final class TappedEnsemble: Layer {
    public enum Combine: String, CaseIterable, Sendable { case telescoping, cumulative }
    public enum Output: String, CaseIterable, Sendable {
        case softmax
        case batchSoftmax = "batch_softmax"
        case binary, logits
    }

    /// An auxiliary classifier: reads trunk output `tap` (1-based) and is weighted by `alpha`.
    public struct Head {
        public let tap: Int
        public let alpha: Float
        public let layer: any Layer
        public init(tap: Int, alpha: Float = 1, layer: any Layer) {
            self.tap = tap
            self.alpha = alpha
            self.layer = layer
        }
    }

    public let kind = "tapped_ensemble"
    public let trunk: [(name: String, layer: any Layer)]
    public let heads: [Head]
    public let combine: Combine
    public let output: Output
    /// Rows per softmax block for `batchSoftmax`.
    public let batchBlock: Int

    /// Indices of the heads that contribute to the output.
    public let usedHeads: [Int]
    /// Number of trunk children that run: the largest tap of a used head.
    public let depth: Int
    /// Used heads by the trunk activation they read (index `tap − 1`).
    private let headsAtLevel: [[Int]]

    private var trunkShapes: [[Int]] = []
    private var classes = 0
    private var activations: [Tensor] = []
    private var logits: [Tensor] = []
    private var outputs: [Tensor] = []
    private var gradientBuffers: [TensorStorage] = []
    private var headGradientBuffer: TensorStorage?
    private var logitGradient: Tensor?
    /// Views for the current batch size, rebuilt only when it changes.
    private var viewBatch = -1
    private var activationViews: [Tensor] = []
    private var gradientViews: [Tensor] = []
    private var logitViews: [Tensor] = []
    private var outputViews: [Tensor] = []
    private var headGradientViews: [Tensor] = []
    private var logitGradientView: Tensor?

    public init(trunk: [(name: String, layer: any Layer)], heads: [Head], combine: Combine = .telescoping,
                output: Output = .softmax, batchBlock: Int = 100) {
        self.trunk = trunk
        self.heads = heads
        self.combine = combine
        self.output = output
        self.batchBlock = batchBlock
        usedHeads = heads.isEmpty ? [] : (combine == .telescoping ? [heads.count - 1] : Array(heads.indices))
        depth = usedHeads.map { heads[$0].tap }.max() ?? 0
        var levels = [[Int]](repeating: [], count: max(depth, 0))
        for h in usedHeads where h >= 0 && heads[h].tap >= 1 && heads[h].tap <= depth { levels[heads[h].tap - 1].append(h) }
        headsAtLevel = levels
    }

    /// Trunk children named by their index, as in an unnamed `sequential`.
    public convenience init(trunk: [any Layer], heads: [Head], combine: Combine = .telescoping,
                            output: Output = .softmax, batchBlock: Int = 100) {
        self.init(trunk: trunk.enumerated().map { (String($0.offset), $0.element) }, heads: heads,
                  combine: combine, output: output, batchBlock: batchBlock)
    }

    public var children: [(name: String, layer: any Layer)] {
        trunk + heads.enumerated().map { ("head\($0.offset)", $0.element.layer) }
    }

    /// True for the names the heads take: `head` followed by decimal digits.
    static func isHeadName(_ name: String) -> Bool {
        guard name.hasPrefix("head") else { return false }
        let digits = name.dropFirst(4)
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard !trunk.isEmpty else { throw ShapeError("a tapped_ensemble needs at least one trunk layer") }
        guard !heads.isEmpty else { throw ShapeError("a tapped_ensemble needs at least one head") }
        if let clash = trunk.first(where: { Self.isHeadName($0.name) }) {
            throw ShapeError("the trunk layer name \"\(clash.name)\" is reserved for the heads (head0, head1, …)")
        }
        for (i, h) in heads.enumerated() where !(1...trunk.count).contains(h.tap) {
            throw ShapeError("head\(i) taps \(h.tap), but the tap must be between 1 and \(trunk.count) (the trunk has \(trunk.count) \(trunk.count == 1 ? "child" : "children"))")
        }
        guard batchBlock >= 1 else { throw ShapeError("the batch_softmax block must be at least 1 row, got \(batchBlock)") }

        var shape = inputShape
        trunkShapes = []
        for (name, child) in trunk {
            shape = try buildChild(child, name: name, inputShape: shape, context: &context)
            trunkShapes.append(shape)
        }
        var firstClasses: Int?
        for (i, h) in heads.enumerated() {
            let s = try buildChild(h.layer, name: "head\(i)", inputShape: trunkShapes[h.tap - 1], context: &context)
            guard s.count == 2, s[0] == inputShape[0] else {
                throw ShapeError("head\(i) must give [N, classes] logits, got \(describe(s)); end it with a flatten and a linear layer")
            }
            if let k = firstClasses, s[1] != k {
                throw ShapeError("head\(i) gives \(s[1]) classes but head0 gives \(k); every head must give the same number of classes")
            }
            firstClasses = s[1]
        }
        let k = firstClasses!
        if output == .binary && k != 2 {
            throw ShapeError("the \"binary\" output needs heads with 2 logits, got \(k)")
        }
        classes = k
        let n = inputShape[0]

        // Activations of the trunk children that run; gradients ping-pong between two buffers.
        activations = []
        for j in 0..<depth {
            try context.reserve(trunkShapes[j], for: "the output of trunk layer \(trunk[j].name)")
            activations.append(Tensor(shape: trunkShapes[j]))
        }
        let largest = activations.map(\.count).max() ?? 0
        gradientBuffers = (0..<min(depth, 2)).map { _ in TensorStorage(capacity: largest) }
        // Views are made for every head (unused ones are never written), so size for all of them.
        let largestTap = heads.map { trunkShapes[$0.tap - 1].reduce(1, *) }.max() ?? 0
        headGradientBuffer = TensorStorage(capacity: largestTap)
        logits = []
        outputs = []
        for i in heads.indices {
            try context.reserve([n, k], for: "the logits of head\(i)")
            logits.append(Tensor(shape: [n, k]))
            if output != .logits {
                try context.reserve([n, k], for: "the output of head\(i)")
                outputs.append(Tensor(shape: [n, k]))
            }
        }
        logitGradient = Tensor(shape: [n, k])
        viewBatch = -1
        return [n, k]
    }

    private func prepareViews(batch: Int) {
        guard batch != viewBatch else { return }
        activationViews = activations.map { $0.batchPrefix(batch) }
        gradientViews = pingPongGradientViews(activations, gradientBuffers, batch: batch)
        logitViews = logits.map { $0.batchPrefix(batch) }
        outputViews = output == .logits ? logitViews : outputs.map { $0.batchPrefix(batch) }
        headGradientViews = heads.map { h in
            var s = trunkShapes[h.tap - 1]
            s[0] = batch
            return Tensor(storage: headGradientBuffer!, shape: s)
        }
        logitGradientView = logitGradient!.batchPrefix(batch)
        viewBatch = batch
    }

    public func forward(input: Tensor, output y: Tensor, training: Bool) throws {
        let n = input.shape[0]
        prepareViews(batch: n)
        var x = input
        for j in 0..<depth {
            try trunk[j].layer.runForward(input: x, output: activationViews[j], training: training)
            x = activationViews[j]
        }
        y.zero()
        let k = classes
        for h in usedHeads {
            let z = logitViews[h]
            try heads[h].layer.runForward(input: activationViews[heads[h].tap - 1], output: z, training: training)
            let o = outputViews[h]
            switch output {
            case .logits: break
            case .softmax: Self.softmaxRows(z.data, o.data, rows: n, columns: k)
            case .batchSoftmax:
                var start = 0
                while start < n {
                    let rows = min(batchBlock, n - start)
                    Self.softmaxColumns(z.data + start * k, o.data + start * k, rows: rows, columns: k)
                    start += rows
                }
            case .binary:
                for i in 0..<n {
                    let m = Float(tanh(Double(z.data[2 * i + 1]) - Double(z.data[2 * i])))
                    o.data[2 * i] = -m
                    o.data[2 * i + 1] = m
                }
            }
            let a = heads[h].alpha
            let yp = y.data, op = o.data
            for e in 0..<(n * k) { yp[e] += a * op[e] }
        }
    }

    public func backward(input: Tensor, output y: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        let n = input.shape[0]
        prepareViews(batch: n)
        for j in stride(from: depth - 1, through: 0, by: -1) {
            let g = gradientViews[j]
            // The top activation has no trunk child above it that runs: its first head writes the
            // gradient; below it, trunk child j+1 has written it and the heads add theirs.
            var written = j != depth - 1
            for h in headsAtLevel[j] {
                computeLogitGradient(head: h, gradOutput: gradOutput, batch: n)
                let target = written ? headGradientViews[h] : g
                try heads[h].layer.backward(input: activationViews[j], output: logitViews[h],
                                            gradOutput: logitGradientView!, gradInput: target)
                if written { sk_add_inplace(g.data, target.data, Int64(g.count)) }
                written = true
            }
            let x = j == 0 ? input : activationViews[j - 1]
            let gx: Tensor? = j == 0 ? gradInput : gradientViews[j - 1]
            try trunk[j].layer.backward(input: x, output: activationViews[j], gradOutput: g, gradInput: gx)
        }
    }

    /// Writes dL/dz of head `h` into the logits-gradient scratch, from dL/dy = `gradOutput`.
    private func computeLogitGradient(head h: Int, gradOutput: Tensor, batch n: Int) {
        let k = classes
        let a = heads[h].alpha
        let g = gradOutput.data, o = outputViews[h].data, gz = logitGradientView!.data
        switch output {
        case .logits:
            for e in 0..<(n * k) { gz[e] = a * g[e] }
        case .softmax:
            // dz_c = α o_c (g_c − Σ_j o_j g_j) per row.
            for i in 0..<n {
                let r = i * k
                var dot = 0.0
                for c in 0..<k { dot += Double(o[r + c]) * Double(g[r + c]) }
                for c in 0..<k { gz[r + c] = Float(Double(a) * Double(o[r + c]) * (Double(g[r + c]) - dot)) }
            }
        case .batchSoftmax:
            // The same per column, the sum running over the rows of the block.
            var start = 0
            while start < n {
                let rows = min(batchBlock, n - start)
                for c in 0..<k {
                    var dot = 0.0
                    for i in start..<(start + rows) { dot += Double(o[i * k + c]) * Double(g[i * k + c]) }
                    for i in start..<(start + rows) {
                        gz[i * k + c] = Float(Double(a) * Double(o[i * k + c]) * (Double(g[i * k + c]) - dot))
                    }
                }
                start += rows
            }
        case .binary:
            // y = α[−m, m], m = tanh(z1 − z0): dL/dm = α(g1 − g0), dm/dz1 = 1 − m² = −dm/dz0.
            for i in 0..<n {
                let m = Double(o[2 * i + 1])
                let d = Double(a) * (Double(g[2 * i + 1]) - Double(g[2 * i])) * (1 - m * m)
                gz[2 * i] = Float(-d)
                gz[2 * i + 1] = Float(d)
            }
        }
    }

    /// True when the output is a positive mixture of class distributions (`softmax` outputs, every
    /// used head's alpha > 0): normalised per row it is the ensemble's predictive distribution,
    /// whose loss is `mixture_nll`. Cross-entropy of these scores means nothing.
    public var outputIsMixture: Bool {
        output == .softmax && usedHeads.allSatisfy { heads[$0].alpha > 0 }
    }

    /// A mixture is scored by its likelihood; other outputs (batch softmax, binary) by accuracy only.
    public var evaluationLoss: String? { outputIsMixture ? "mixture_nll" : "none" }

    /// Softmax of each row of a `[rows, columns]` block.
    static func softmaxRows(_ z: UnsafeMutablePointer<Float>, _ o: UnsafeMutablePointer<Float>, rows: Int, columns k: Int) {
        for i in 0..<rows {
            let r = i * k
            var top = -Double.infinity
            for c in 0..<k { top = max(top, Double(z[r + c])) }
            var sum = 0.0
            for c in 0..<k { sum += exp(Double(z[r + c]) - top) }
            for c in 0..<k { o[r + c] = Float(exp(Double(z[r + c]) - top) / sum) }
        }
    }

    /// Softmax of each column of a `[rows, columns]` block (over the rows).
    static func softmaxColumns(_ z: UnsafeMutablePointer<Float>, _ o: UnsafeMutablePointer<Float>, rows: Int, columns k: Int) {
        for c in 0..<k {
            var top = -Double.infinity
            for i in 0..<rows { top = max(top, Double(z[i * k + c])) }
            var sum = 0.0
            for i in 0..<rows { sum += exp(Double(z[i * k + c]) - top) }
            for i in 0..<rows { o[i * k + c] = Float(exp(Double(z[i * k + c]) - top) / sum) }
        }
    }
}

extension TappedEnsemble {
    /// Reads a `tapped_ensemble` recipe object (docs/recipes.md); every problem goes to the
    /// diagnostics at its JSON path. Nil when anything is wrong.
    static func fromRecipe(_ c: inout ConfigReader, _ b: ModelBuilder) -> LayerSpec.Construct? {
        let errorsBefore = c.diagnostics.errors.count
        // Trunk: like a sequential's layers.
        var trunk: [(name: String, spec: LayerSpec)] = []
        var trunkCount: Int?
        if let v = c.value("trunk") {
            if case let .array(items) = v, !items.isEmpty {
                trunkCount = items.count
                var names = Set<String>()
                for (i, item) in items.enumerated() {
                    let p = c.childPath("trunk") + "[\(i)]"
                    let name = ModelBuilder.name(of: item) ?? String(i)
                    if isHeadName(name) {
                        c.diagnostics.error(at: p + ".name", "\"\(name)\" is reserved for the heads (head0, head1, …); give this trunk layer another name")
                    } else if !names.insert(name).inserted {
                        c.diagnostics.error(at: p + ".name", "duplicate layer name \"\(name)\"")
                    }
                    if let spec = b.layer(item, path: p) { trunk.append((name, spec)) }
                }
            } else {
                c.diagnostics.error(at: c.childPath("trunk"), "expected a non-empty array of layers")
            }
        } else {
            c.diagnostics.error(at: c.childPath("trunk"), "is required (a non-empty array of layers)")
        }

        // Heads: {"tap", "alpha", "layers"} objects.
        var heads: [(tap: Int, alpha: Float, spec: LayerSpec)] = []
        if let v = c.value("heads") {
            if case let .array(items) = v, !items.isEmpty {
                for (i, item) in items.enumerated() {
                    let p = c.childPath("heads") + "[\(i)]"
                    var h = ConfigReader(item, path: p, diagnostics: c.diagnostics)
                    guard case .object = item else { continue }
                    var tap: Int?
                    if let t = h.value("tap") {
                        if let k = ConfigReader.int(t, path: h.childPath("tap"), in: -(1 << 53)...(1 << 53), diagnostics: c.diagnostics) {
                            if let n = trunkCount, !(1...n).contains(k) {
                                c.diagnostics.error(at: h.childPath("tap"),
                                                    "must be between 1 and \(n) (the trunk has \(n) \(n == 1 ? "child" : "children")), got \(k)")
                            } else {
                                tap = k
                            }
                        }
                    } else {
                        c.diagnostics.error(at: h.childPath("tap"), "is required: the trunk layer (1 = the first) whose output the head reads")
                    }
                    let alpha = h.double("alpha", default: 1, in: -1e6...1e6)
                    var layer: LayerSpec?
                    if let l = h.value("layers") {
                        layer = b.layer(l, path: h.childPath("layers"))
                    } else {
                        c.diagnostics.error(at: h.childPath("layers"), "is required (the head: one layer, e.g. a sequential ending in a linear layer)")
                    }
                    h.finish()
                    if let tap, let layer { heads.append((tap, Float(alpha), layer)) }
                }
            } else {
                c.diagnostics.error(at: c.childPath("heads"), "expected a non-empty array of heads")
            }
        } else {
            c.diagnostics.error(at: c.childPath("heads"), "is required (a non-empty array of {\"tap\", \"alpha\", \"layers\"})")
        }

        let combine = Combine(rawValue: c.choice("combine", Combine.allCases.map(\.rawValue), default: "telescoping"))!
        let output = Output(rawValue: c.choice("output", Output.allCases.map(\.rawValue), default: "softmax"))!
        var block = 100
        if c.has("batch") {
            block = c.int("batch", default: 100, in: 1...(1 << 24))
            if output != .batchSoftmax {
                c.diagnostics.error(at: c.childPath("batch"), "only applies to the \"batch_softmax\" output (output is \"\(output.rawValue)\")")
            }
        } else {
            c.accept("batch")
        }
        guard c.diagnostics.errors.count == errorsBefore else { return nil }
        return { build in
            TappedEnsemble(trunk: try trunk.map { ($0.name, try $0.spec.build(&build)) },
                           heads: try heads.map { Head(tap: $0.tap, alpha: $0.alpha, layer: try $0.spec.build(&build)) },
                           combine: combine, output: output, batchBlock: block)
        }
    }
}
