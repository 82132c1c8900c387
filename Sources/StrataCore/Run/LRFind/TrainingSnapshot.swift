/// Everything training changes in a model, copied so it can be put back bit for bit: every
/// parameter and buffer (BatchNorm's running statistics are buffers), every gradient, and the
/// position of every layer's random stream (dropout masks).
///
/// The optimizer is not part of it: a procedure that trains tentatively (the LR finder) steps an
/// optimizer of its own, so the run's optimizer state is never touched.
struct TrainingSnapshot {
    private let values: [(live: Tensor, saved: Tensor)]
    private let gradients: [(live: Tensor, saved: Tensor)]
    private let streams: [(layer: any RandomStateful, state: UInt64)]

    init(_ model: Model) {
        let parameters = model.namedParameters.map(\.parameter)
        values = parameters.map { ($0.value, $0.value.copy()) }
        gradients = parameters.compactMap { p in p.grad.map { ($0, $0.copy()) } }
        streams = model.root.descendantsAndSelf.compactMap { $0 as? any RandomStateful }.map { ($0, $0.randomState) }
    }

    /// Writes the saved values back into the same tensors and layers.
    func restore() {
        for (live, saved) in values { live.copy(from: saved) }
        for (live, saved) in gradients { live.copy(from: saved) }
        for (layer, state) in streams { layer.randomState = state }
    }
}
