/// One parameter as the optimizer sees it: the tensor, and its group's learning-rate multiplier
/// and weight decay (differential learning rates, fast.ai's LayerOptimizer).
public struct OptimizerSlot {
    public let name: String
    public let parameter: Parameter
    public let learningRateMultiplier: Float
    public let weightDecay: Float

    public init(name: String, parameter: Parameter, learningRateMultiplier: Float = 1, weightDecay: Float) {
        self.name = name
        self.parameter = parameter
        self.learningRateMultiplier = learningRateMultiplier
        self.weightDecay = weightDecay
    }
}

/// An optimizer: the Swift face of `StrataOptimizerOps`.
///
/// `step` updates every non-frozen parameter from its gradient. State (momentum buffers, Adam
/// moments, step counts) is kept per parameter name and is exposed as named tensors for
/// checkpoints.
public protocol Optimizer: AnyObject {
    var kind: String { get }
    /// Base learning rate; schedules and the LR finder change it between steps.
    var learningRate: Double { get set }
    /// Default weight decay for parameters whose group sets none.
    var weightDecay: Float { get }
    /// Throws when a plugin optimizer's step fails (the built-ins never throw).
    func step(_ slots: [OptimizerSlot]) throws
    /// State tensors by name (`<param>.momentum_buffer`, `<param>.exp_avg`, …).
    func stateTensors() -> [(name: String, tensor: Tensor)]
    /// Restores state written by `stateTensors`; unknown names are an error.
    func loadState(_ tensors: [String: Tensor], parameters: [String: Parameter]) throws
}

/// An optimizer whose momentum a schedule may set between steps (one-cycle): SGD's momentum,
/// Adam's β₁.
public protocol MomentumAdjustable: Optimizer {
    var momentum: Double { get set }
}
