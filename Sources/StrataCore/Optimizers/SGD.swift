import CStrataKernels

/// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight
/// decay, exactly as `torch.optim.SGD`: the momentum buffer starts as the first gradient.
public final class SGD: Optimizer, MomentumAdjustable {
    public let kind = "sgd"
    public var learningRate: Double
    public var momentum: Double
    public let dampening: Float
    public let nesterov: Bool
    public let weightDecay: Float
    private var buffers: [String: Tensor] = [:]

    public init(learningRate: Double, momentum: Float = 0, dampening: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        self.learningRate = learningRate
        self.momentum = Double(momentum)
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    public func step(_ slots: [OptimizerSlot]) {
        for slot in slots where !slot.parameter.frozen {
            let p = slot.parameter
            guard let grad = p.grad else { continue }
            var first: Int32 = 0
            var buffer: Tensor? = nil
            if momentum != 0 {
                if let b = buffers[slot.name] { buffer = b } else {
                    let b = Tensor(shape: p.value.shape)
                    buffers[slot.name] = b
                    buffer = b
                    first = 1
                }
            }
            sk_sgd_step(p.value.data, buffer?.data, grad.data, Int64(p.value.count),
                        Float(learningRate) * slot.learningRateMultiplier, Float(momentum), dampening,
                        slot.weightDecay, nesterov ? 1 : 0, first)
        }
    }

    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        buffers.keys.sorted().map { ("\($0).momentum_buffer", buffers[$0]!) }
    }

    public func loadState(_ tensors: [String: Tensor], parameters: [String: Parameter]) throws {
        for (name, t) in tensors {
            guard name.hasSuffix(".momentum_buffer") else { throw CoreError.badInput("sgd state: unknown entry \(name)") }
            let param = String(name.dropLast(".momentum_buffer".count))
            guard let p = parameters[param], p.value.shape == t.shape else {
                throw CoreError.badInput("sgd state: \(name) matches no parameter of that shape")
            }
            buffers[param] = t
        }
    }
}
