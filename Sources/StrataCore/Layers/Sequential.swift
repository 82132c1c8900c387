/// Runs child layers one after another: `y = fₙ(…f₂(f₁(x)))`.
///
/// Children are named by their index (`0`, `1`, …) unless the recipe names them, as in PyTorch's
/// `nn.Sequential`. Activations are planned once at build for the largest batch: one buffer per
/// intermediate output (backward needs them), plus two ping-pong buffers for gradients. The last
/// child writes straight into the caller's output.
public final class Sequential: Layer {
    public let kind = "sequential"
    public let layers: [(name: String, layer: any Layer)]
    private var activations: [Tensor] = []
    private var gradientBuffers: [TensorStorage] = []
    private var shapes: [[Int]] = []
    /// Views of the buffers for the current batch size, rebuilt only when it changes.
    private var viewBatch = -1
    private var activationViews: [Tensor] = []
    private var gradientViews: [Tensor] = []
    /// The InferenceFusion groups of `layers`, found at the first evaluation forward.
    private lazy var fusedGroups = InferenceFusion.groups(layers)
    /// Whether the last forward skipped intermediate outputs (fused), so backward recomputes them.
    private var lastForwardFused = false

    public init(_ layers: [(name: String, layer: any Layer)]) { self.layers = layers }

    public convenience init(_ layers: [any Layer]) {
        self.init(layers.enumerated().map { (String($0.offset), $0.element) })
    }

    public var children: [(name: String, layer: any Layer)] { layers }

    /// The planned output buffers of every child but the last, at the largest batch (a scheme
    /// model runs the children one by one into these same buffers).
    var plannedActivations: [Tensor] { activations }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard !layers.isEmpty else { throw ShapeError("a sequential needs at least one layer") }
        var shape = inputShape
        shapes = []
        for (name, child) in layers {
            shape = try buildChild(child, name: name, inputShape: shape, context: &context)
            try context.reserve(shape, for: "the output of layer \(name)")
            shapes.append(shape)
        }
        let intermediate = shapes.dropLast()
        activations = intermediate.map { Tensor(shape: $0) }
        let largest = intermediate.map { $0.reduce(1, *) }.max() ?? 0
        gradientBuffers = largest > 0 ? [TensorStorage(capacity: largest), TensorStorage(capacity: largest)] : []
        viewBatch = -1
        return shape
    }

    private func prepareViews(batch: Int) {
        guard batch != viewBatch else { return }
        activationViews = activations.map { $0.batchPrefix(batch) }
        gradientViews = pingPongGradientViews(activations, gradientBuffers, batch: batch)
        viewBatch = batch
    }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        try forward(input: input, output: output, training: training, residual: nil)
    }

    /// The forward pass; in evaluation mode (when `fuse`) the groups of InferenceFusion run fused,
    /// and `residual`, when given, is added to the output by the last layer's group. Returns false,
    /// having done nothing, when `residual` is given but the last layer ends no fused group.
    @discardableResult
    func forward(input: Tensor, output: Tensor, training: Bool, residual: Tensor?, fuse: Bool = true) throws -> Bool {
        var groups = fuse && InferenceFusion.applies(training: training) ? fusedGroups : [:]
        if ForwardHooks.active.load(ordering: .relaxed) > 0 {
            // A hooked sequential (it may be a residual body) or a group with a hooked layer runs unfused.
            if residual != nil, ForwardHooks.isHooked(self) { groups = [:] }
            groups = groups.filter { !$0.value.isHooked }
        }
        let last = layers.count - 1
        if residual != nil, !groups.contains(where: { $0.key + $0.value.length - 1 == last }) { return false }
        prepareViews(batch: input.shape[0])
        lastForwardFused = !groups.isEmpty
        var x = input
        var i = 0
        while i <= last {
            if let g = groups[i] {
                let end = i + g.length - 1
                let y = end == last ? output : activationViews[end]
                try g.forward(input: x, output: y, residual: end == last ? residual : nil)
                x = y
                i = end + 1
            } else {
                let y = i == last ? output : activationViews[i]
                try layers[i].layer.runForward(input: x, output: y, training: training)
                x = y
                i += 1
            }
        }
        return true
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        if lastForwardFused {
            // A fused forward skipped the intermediate outputs that backward reads: recompute them.
            try forward(input: input, output: output, training: false, residual: nil, fuse: false)
        }
        prepareViews(batch: input.shape[0])
        var gy = gradOutput
        let last = layers.count - 1
        for i in stride(from: last, through: 0, by: -1) {
            let x = i == 0 ? input : activationViews[i - 1]
            let y = i == last ? output : activationViews[i]
            let gx: Tensor? = i == 0 ? gradInput : gradientViews[i - 1]
            try layers[i].layer.backward(input: x, output: y, gradOutput: gy, gradInput: gx)
            guard let gx else { break }
            gy = gx
        }
    }
}

/// Views for `batch` examples of the gradient of each activation, alternating between the two
/// ping-pong `buffers`: backward reads the gradient of activation j while it writes that of j − 1.
func pingPongGradientViews(_ activations: [Tensor], _ buffers: [TensorStorage], batch: Int) -> [Tensor] {
    activations.indices.map { j in
        var s = activations[j].shape
        s[0] = batch
        return Tensor(storage: buffers[j % 2], shape: s)
    }
}
