import Foundation
import StrataKit

/// Cross-entropy against smoothed targets, as `torch.nn.CrossEntropyLoss(label_smoothing: e)`:
/// row i's target distribution is (1 - e) on its class plus e / C on every class, so
/// loss_i = -sum_j q_ij * log_softmax(x_i)_j and d loss / d x_ij = (softmax(x_i)_j - q_ij) / N.
final class LabelSmoothingCrossEntropy: KitLoss {
    let epsilon: Double

    init(config: KitConfig) throws {
        epsilon = try config.double("epsilon", default: 0.1)
        guard epsilon >= 0, epsilon < 1 else { throw KitError.invalidArgument("epsilon must be in [0, 1), got \(epsilon)") }
    }

    func forward(logits: KitTensor, targets: UnsafeBufferPointer<Int32>, gradLogits: KitTensor?) throws -> Double {
        let n = logits.shape[0], c = logits.shape[1]
        guard n > 0, c > 0 else { throw KitError.shapeMismatch("expects at least one row and one class") }
        var total = 0.0
        for i in 0..<n {
            let row = logits.buffer.baseAddress! + i * c
            var top = -Double.infinity
            for j in 0..<c { top = max(top, Double(row[j])) }
            var sum = 0.0
            for j in 0..<c { sum += exp(Double(row[j]) - top) }
            let logSum = top + log(sum)
            let y = Int(targets[i])
            for j in 0..<c {
                let q = (j == y ? 1 - epsilon : 0) + epsilon / Double(c)
                total -= q * (Double(row[j]) - logSum)
                if let g = gradLogits { g.buffer[i * c + j] = Float((exp(Double(row[j]) - logSum) - q) / Double(n)) }
            }
        }
        return total / Double(n)
    }
}
