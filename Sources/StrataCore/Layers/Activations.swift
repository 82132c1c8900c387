import CStrataKernels

/// Elementwise activations. Backward uses the saved output: ReLU′ = [y > 0], σ′ = y(1−y), tanh′ = 1−y².
public final class Activation: Layer {
    public enum Function: String, Sendable { case relu, sigmoid, tanh }
    public let function: Function
    public var kind: String { function.rawValue }

    public init(_ function: Function) { self.function = function }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] { inputShape }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        let n = Int64(input.count)
        switch function {
        case .relu: sk_relu_forward(output.data, input.data, n)
        case .sigmoid: sk_sigmoid_forward(output.data, input.data, n)
        case .tanh: sk_tanh_forward(output.data, input.data, n)
        }
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        guard let gradInput else { return }
        let n = Int64(input.count)
        switch function {
        case .relu: sk_relu_backward(gradInput.data, gradOutput.data, output.data, n)
        case .sigmoid: sk_sigmoid_backward(gradInput.data, gradOutput.data, output.data, n)
        case .tanh: sk_tanh_backward(gradInput.data, gradOutput.data, output.data, n)
        }
    }
}

/// Flattens `[N, ...]` to `[N, product]` (a copy: containers give each layer its own output buffer).
public final class Flatten: Layer {
    public let kind = "flatten"
    public init() {}

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count >= 2 else { throw ShapeError("expects a batch dimension, got \(describe(inputShape))") }
        return [inputShape[0], inputShape.dropFirst().reduce(1, *)]
    }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws { output.copy(from: input) }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        gradInput?.copy(from: gradOutput)
    }
}

/// Inverted dropout: in training each element is kept with probability `1 − p` and scaled by
/// `1/(1 − p)`; in evaluation it is the identity. The mask stream is seeded by the recipe seed.
public final class Dropout: Layer, RandomStateful {
    public let kind = "dropout"
    public let p: Float
    private var mask: Tensor?
    private var seed: UInt64 = 0
    private var step: UInt64 = 0
    /// Whether the last forward applied a mask (training) or was the identity.
    private var masked = false

    public init(p: Float) { self.p = p }

    /// The mask stream's position (masks drawn so far).
    public var randomState: UInt64 {
        get { step }
        set { step = newValue }
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        seed = context.random.nextUInt64()
        try context.reserve(inputShape, for: "the dropout mask")
        mask = Tensor(shape: inputShape)
        return inputShape
    }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        masked = training && p > 0
        guard masked, let mask else { output.copy(from: input); return }
        step &+= 1
        sk_dropout_forward(output.data, mask.data, input.data, Int64(input.count), p, seed, step)
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        guard let gradInput else { return }
        guard masked, let mask else { gradInput.copy(from: gradOutput); return }
        sk_mul(gradInput.data, gradOutput.data, mask.data, Int64(input.count))
    }
}

/// Log-softmax over the last dimension of `[N, K]` scores: `y = x − log Σ exp(x)` per row, the
/// input the `nll` loss expects (`log_softmax` + `nll` is `cross_entropy`).
public final class LogSoftmax: Layer {
    public let kind = "log_softmax"
    public init() {}

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 2 else { throw ShapeError("expects [N, classes] input, got \(describe(inputShape)); add a flatten layer before it") }
        return inputShape
    }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        sk_log_softmax_forward(output.data, input.data, Int64(input.shape[0]), Int64(input.shape[1]))
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        guard let gradInput else { return }
        sk_log_softmax_backward(gradInput.data, gradOutput.data, output.data, Int64(input.shape[0]), Int64(input.shape[1]))
    }
}
