import Foundation
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

/// Negative log-likelihood of non-negative class scores normalised per row,
/// `−log(y_t / Σ_c y_c)`, mean over the batch: the loss of a mixture whose output is a weighted
/// sum of probability vectors, such as a boosted ensemble (`tapped_ensemble` with the
/// `softmax` output and positive alphas). A probability below 1e-12 counts as 1e-12 (a row's
/// loss is at most 27.6). A negative or non-finite score, or a row summing to 0, is bad input.
public final class MixtureNLLLoss: Loss {
    public let kind = "mixture_nll"
    static let floor = 1e-12
    public init() {}

    public func compute(output: Tensor, targets: UnsafePointer<Int32>, gradient: Tensor?) throws -> LossValue {
        let (n64, k64) = try classShape(output, kind)
        let (n, k) = (Int(n64), Int(k64))
        var total = 0.0
        for i in 0..<n {
            let row = output.data + i * k
            let t = Int(targets[i])
            guard t >= 0, t < k else { throw classError(kind, row: Int64(i), target: targets[i], classes: k64) }
            var sum = 0.0
            for c in 0..<k {
                let v = Double(row[c])
                guard v >= 0, v.isFinite else {
                    throw CoreError.badInput("\(kind) loss: score \(v) in batch row \(i), class \(c) is not a non-negative number (the model must output mixture weights, not logits)")
                }
                sum += v
            }
            guard sum > 0 else { throw CoreError.badInput("\(kind) loss: the scores of batch row \(i) sum to 0") }
            let p = Double(row[t]) / sum
            total -= log(max(p, Self.floor))
            if let g = gradient?.data {
                // d/dy_c of −log(y_t / Σ y) = 1/Σy − [c = t]/y_t (0 from y_t where the floor holds).
                let gt = p > Self.floor ? 1 / Double(row[t]) : 0
                for c in 0..<k { g[i * k + c] = Float((1 / sum - (c == t ? gt : 0)) / Double(n)) }
            }
        }
        return LossValue(loss: total / Double(max(n, 1)), correct: Int(sk_count_correct(output.data, targets, n64, k64)))
    }
}

/// No loss: the argmax of each row against its target, and a NaN loss (reported as `-`). For
/// evaluating outputs that no loss scores, such as a batch-softmax or binary boosted ensemble;
/// it has no gradient to train with.
public final class AccuracyOnlyLoss: Loss {
    public let kind = "none"
    public init() {}

    public func compute(output: Tensor, targets: UnsafePointer<Int32>, gradient: Tensor?) throws -> LossValue {
        guard gradient == nil else { throw CoreError.badInput("an accuracy-only evaluation has no gradient to train with") }
        let (n, k) = try classShape(output, kind)
        return LossValue(loss: .nan, correct: Int(sk_count_correct(output.data, targets, n, k)))
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
        throw CoreError.badInput("\(kind) loss expects model output [N, classes], got \(describe(output.shape)); end the model with a linear layer")
    }
    return (Int64(output.shape[0]), Int64(output.shape[1]))
}

private func classError(_ kind: String, row: Int64, target: Int32, classes: Int64) -> CoreError {
    .badInput("\(kind) loss: label \(target) of batch row \(row) is outside the model's \(classes) classes")
}
