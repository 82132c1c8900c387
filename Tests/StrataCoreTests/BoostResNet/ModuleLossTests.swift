import Foundation
import Testing
import BoostResNetBookkeeping

/// The hypothesis module's losses (bookkeeping.h brn_loss_*): values against hand-computed ones
/// and gradients against central finite differences of the loss itself.
@Suite("BoostResNet module losses")
struct ModuleLossTests {
    typealias LossFunction = (_ z: [Float], _ g: inout [Double]) -> (status: Int32, loss: Double)

    static let n = 5, k = 4
    static let y: [Int32] = [0, 3, 1, 1, 2]
    /// Logits in [-1.5, 1.5], fixed.
    static let z: [Float] = (0..<(n * k)).map { Float(sin(Double($0) * 1.7) * 1.5) }

    /// Checks every element of the analytic gradient against (L(z + h e) - L(z - h e)) / (z+ - z-),
    /// the step measured on the float values the loss really sees.
    static func checkGradient(_ f: LossFunction, z: [Float], count: Int) {
        var g = [Double](repeating: .nan, count: count)
        let (status, _) = f(z, &g)
        #expect(status == BRN_OK)
        var scratch = [Double](repeating: 0, count: count)
        for j in 0..<count {
            var plus = z, minus = z
            plus[j] += 1e-2
            minus[j] -= 1e-2
            let lp = f(plus, &scratch).loss, lm = f(minus, &scratch).loss
            let numeric = (lp - lm) / Double(plus[j] - minus[j])
            #expect(abs(numeric - g[j]) <= 1e-4 + 1e-3 * abs(numeric), "element \(j): analytic \(g[j]), numeric \(numeric)")
        }
    }

    /// mean_i sum_{l != y_i} w(i, l) exp(z_il - z_iy_i), computed directly.
    static func exponentialLoss(weight: (Int, Int) -> Double) -> Double {
        var total = 0.0
        for i in 0..<n {
            let zy = Double(z[i * k + Int(y[i])])
            for l in 0..<k where l != Int(y[i]) { total += weight(i, l) * exp(Double(z[i * k + l]) - zy) }
        }
        return total / Double(n)
    }

    @Test func exponentialLossValueAndGradient() {
        let f: LossFunction = { z, g in
            var loss = Double.nan
            let s = brn_loss_exponential(&loss, &g, z, Self.y, nil, nil, 1, Int64(Self.n), Int64(Self.k), 30)
            return (s, loss)
        }
        var g = [Double](repeating: 0, count: Self.n * Self.k)
        let loss = f(Self.z, &g).loss
        #expect(abs(loss - Self.exponentialLoss { _, _ in 1 }) < 1e-12)
        // On logits it is exp(CE) - 1 per example.
        var ce = 0.0
        for i in 0..<Self.n {
            let row = (0..<Self.k).map { Double(Self.z[i * Self.k + $0]) }
            ce += exp(log(row.map(exp).reduce(0, +)) - row[Int(Self.y[i])]) - 1
        }
        #expect(abs(loss - ce / Double(Self.n)) < 1e-12)
        Self.checkGradient(f, z: Self.z, count: Self.n * Self.k)
    }

    @Test func costWeightedExponentialLossGradient() {
        // Cumulative scores: w_il = scale * cost[idx_i][l]; rows of examples 7, 2, 0, 5, 3 of an 8-row cost matrix.
        let cost: [Double] = (0..<(8 * Self.k)).map { 0.2 + Double(($0 * 37) % 11) / 7 }
        let idx: [Int64] = [7, 2, 0, 5, 3]
        let f: LossFunction = { z, g in
            var loss = Double.nan
            let s = brn_loss_exponential(&loss, &g, z, Self.y, cost, idx, 0.75, Int64(Self.n), Int64(Self.k), 30)
            return (s, loss)
        }
        var g = [Double](repeating: 0, count: Self.n * Self.k)
        let loss = f(Self.z, &g).loss
        #expect(abs(loss - Self.exponentialLoss { i, l in 0.75 * cost[Int(idx[i]) * Self.k + l] }) < 1e-12)
        Self.checkGradient(f, z: Self.z, count: Self.n * Self.k)
    }

    @Test func referenceLossWithClassAndBatchSoftmax() {
        for batch in [Int32(0), 1] {
            let f: LossFunction = { z, g in
                var loss = Double.nan
                var q = [Double](repeating: 0, count: Self.n * Self.k)
                let s = brn_loss_exp_mean_ce(&loss, &g, &q, z, Self.y, Int64(Self.n), Int64(Self.k), batch, 30)
                return (s, loss)
            }
            var g = [Double](repeating: 0, count: Self.n * Self.k)
            let loss = f(Self.z, &g).loss
            // exp(mean CE(q)) with q = z or the per-column softmax of z over the batch.
            var q = Self.z.map(Double.init)
            if batch == 1 {
                for l in 0..<Self.k {
                    let column = (0..<Self.n).map { q[$0 * Self.k + l] }
                    let total = column.map(exp).reduce(0, +)
                    for i in 0..<Self.n { q[i * Self.k + l] = exp(column[i]) / total }
                }
            }
            var ce = 0.0
            for i in 0..<Self.n {
                let row = (0..<Self.k).map { q[i * Self.k + $0] }
                ce += log(row.map(exp).reduce(0, +)) - row[Int(Self.y[i])]
            }
            #expect(abs(loss - exp(ce / Double(Self.n))) < 1e-12, "batch softmax \(batch)")
            Self.checkGradient(f, z: Self.z, count: Self.n * Self.k)
        }
    }

    @Test func binaryLossAndTheCap() {
        let y: [Int32] = [1, 0, 0, 1]
        let z: [Float] = [0.3, -0.2, 1.1, 0.4, -0.5, 0.9, 0.0, 2.0]
        let f: LossFunction = { z, g in
            var loss = Double.nan
            let s = brn_loss_binary(&loss, &g, z, y, 4, 30)
            return (s, loss)
        }
        var g = [Double](repeating: 0, count: 8)
        let loss = f(z, &g).loss
        let margins = (0..<4).map { (y[$0] == 1 ? 1.0 : -1.0) * (Double(z[2 * $0 + 1]) - Double(z[2 * $0])) }
        #expect(abs(loss - margins.map { exp(-$0) }.reduce(0, +) / 4) < 1e-12)
        Self.checkGradient(f, z: z, count: 8)
        // Beyond the cap the value is exp(cap) and the gradient 0, never inf or NaN.
        var capped = Double.nan
        var gc = [Double](repeating: .nan, count: 2)
        #expect(brn_loss_binary(&capped, &gc, [Float(50), -50], [1], 1, 30) == BRN_OK)
        #expect(capped == exp(30.0) && gc == [0, 0])
        // Bad input is refused.
        #expect(brn_loss_binary(&capped, &gc, [0, 0], [2], 1, 30) == BRN_ERR_INVALID_ARGUMENT)
        #expect(brn_loss_exponential(&capped, &gc, [0, 0], [0], nil, nil, 1, 1, 2, 0) == BRN_ERR_INVALID_ARGUMENT)
    }
}
