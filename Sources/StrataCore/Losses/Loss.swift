import CStrataKernels

/// What a loss reports for one batch.
public struct LossValue: Sendable {
    /// Mean loss over the batch.
    public let loss: Double
    /// Rows whose argmax is the target class.
    public let correct: Int
}

/// A loss over the network output and integer class targets: the Swift face of `StrataLossOps`.
///
/// `compute` returns the mean loss and, when `gradient` is given, **overwrites** it with
/// d(mean loss)/d(output).
public protocol Loss: AnyObject {
    var kind: String { get }
    func compute(output: Tensor, targets: UnsafePointer<Int32>, gradient: Tensor?) throws -> LossValue
}

/// Fused, max-shifted softmax cross-entropy (PyTorch's `CrossEntropyLoss`, mean reduction).
public final class CrossEntropyLoss: Loss {
    public let kind = "cross_entropy"
    public init() {}

    public func compute(output: Tensor, targets: UnsafePointer<Int32>, gradient: Tensor?) throws -> LossValue {
        try classLoss(kind, sk_cross_entropy, output: output, targets: targets, gradient: gradient)
    }
}

/// Negative log-likelihood over log-probabilities (PyTorch's `NLLLoss`, mean reduction).
public final class NLLLoss: Loss {
    public let kind = "nll"
    public init() {}

    public func compute(output: Tensor, targets: UnsafePointer<Int32>, gradient: Tensor?) throws -> LossValue {
        try classLoss(kind, sk_nll, output: output, targets: targets, gradient: gradient)
    }
}

/// Mean squared error against the one-hot encoding of the targets (PyTorch's `MSELoss`,
/// mean over all elements).
public final class MSELoss: Loss {
    public let kind = "mse"
    private var oneHot: Tensor?
    public init() {}

    /// MSE against an explicit target tensor of the output's shape.
    public func compute(output: Tensor, target: Tensor, gradient: Tensor?) -> Double {
        sk_mse(gradient?.data, output.data, target.data, Int64(output.count))
    }

    public func compute(output: Tensor, targets: UnsafePointer<Int32>, gradient: Tensor?) throws -> LossValue {
        let (n, k) = try classShape(output, kind)
        if (oneHot?.count ?? 0) < output.count { oneHot = Tensor(shape: [output.count]) }
        let target = oneHot!.batchPrefix(output.count).reshaped(output.shape)
        target.zero()
        for i in 0..<Int(n) {
            let t = Int(targets[i])
            guard t >= 0, t < Int(k) else { throw classError(kind, row: Int64(i), target: targets[i], classes: k) }
            target[i * Int(k) + t] = 1
        }
        let loss = compute(output: output, target: target, gradient: gradient)
        return LossValue(loss: loss, correct: Int(sk_count_correct(output.data, targets, n, k)))
    }
}

/// The signature shared by the class-target loss kernels.
private typealias ClassLossKernel = (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Int64>?, UnsafePointer<Float>?,
                                     UnsafePointer<Int32>?, Int64, Int64, UnsafeMutablePointer<Int64>?) -> Double

/// Runs a class-target loss kernel over `[N, classes]` output, turning an out-of-range label into an error.
private func classLoss(_ kind: String, _ kernel: ClassLossKernel, output: Tensor, targets: UnsafePointer<Int32>,
                       gradient: Tensor?) throws -> LossValue {
    let (n, k) = try classShape(output, kind)
    var correct: Int64 = 0, bad: Int64 = -1
    let loss = kernel(gradient?.data, &correct, output.data, targets, n, k, &bad)
    if bad >= 0 { throw classError(kind, row: bad, target: targets[Int(bad)], classes: k) }
    return LossValue(loss: loss, correct: Int(correct))
}

private func classShape(_ output: Tensor, _ kind: String) throws -> (Int64, Int64) {
    guard output.rank == 2 else {
        throw StrataError.badInput("\(kind) loss expects model output [N, classes], got \(describe(output.shape)); end the model with a linear layer")
    }
    return (Int64(output.shape[0]), Int64(output.shape[1]))
}

private func classError(_ kind: String, row: Int64, target: Int32, classes: Int64) -> StrataError {
    .badInput("\(kind) loss: label \(target) of batch row \(row) is outside the model's \(classes) classes")
}
