import Testing
@testable import StrataCore

@Suite("Finite-difference gradients of every loss")
struct LossGradientTests {
    /// Compares a loss's analytic d(loss)/d(output) with central differences in double precision
    /// of the float32 loss, on logits that include a large row (the max-shift path).
    func check(_ loss: any Loss, logSoftmaxInput: Bool = false) throws {
        let n = 5, k = 7
        var random = RandomStream(seed: 3)
        let x = Tensor(shape: [n, k])
        for i in 0..<x.count { x[i] = Float(random.normal() * 2) }
        for j in 0..<k { x[2 * k + j] += 60 }   // a row of large logits
        if logSoftmaxInput {
            for r in 0..<n {
                let row = (0..<k).map { Double(x[r * k + $0]) }
                let m = row.max()!, lse = m + log(row.map { exp($0 - m) }.reduce(0, +))
                for j in 0..<k { x[r * k + j] = Float(row[j] - lse) }
            }
        }
        try compareWithFiniteDifferences(loss, x, labels: [0, 3, 6, 2, 5], step: 1e-2)
    }

    /// Every element of the analytic gradient of `loss` at `x` against central differences with `step`.
    func compareWithFiniteDifferences(_ loss: any Loss, _ x: Tensor, labels: [Int32], step h: Float) throws {
        let grad = Tensor(shape: x.shape)
        try labels.withUnsafeBufferPointer { t in
            _ = try loss.compute(output: x, targets: t.baseAddress!, gradient: grad)
            for i in 0..<x.count {
                let saved = x[i]
                x[i] = saved + h
                let plus = try loss.compute(output: x, targets: t.baseAddress!, gradient: nil).loss
                x[i] = saved - h
                let minus = try loss.compute(output: x, targets: t.baseAddress!, gradient: nil).loss
                x[i] = saved
                let numeric = Float((plus - minus) / Double(2 * h))
                #expect(abs(numeric - grad[i]) <= 1e-3 + 1e-2 * abs(grad[i]), "\(loss.kind) d[\(i)]: analytic \(grad[i]) vs numeric \(numeric)")
            }
        }
    }

    @Test func crossEntropy() throws { try check(CrossEntropyLoss()) }
    @Test func nll() throws { try check(NLLLoss(), logSoftmaxInput: true) }
    @Test func mse() throws { try check(MSELoss()) }

    /// mixture_nll on α-weighted sums of class distributions (a cumulative boosted ensemble's
    /// scores): hand-computed values, central differences, and cross-entropy for one head.
    @Test func mixtureNLL() throws {
        let n = 4, k = 5
        var random = RandomStream(seed: 8)
        func softmax(_ z: [Double]) -> [Double] {
            let m = z.max()!, e = z.map { exp($0 - m) }, s = e.reduce(0, +)
            return e.map { $0 / s }
        }
        let labels: [Int32] = [0, 4, 2, 1]
        let logits = (0..<n).map { _ in (0..<k).map { _ in random.normal() * 2 } }
        let other = (0..<n).map { _ in (0..<k).map { _ in random.normal() * 2 } }
        let x = Tensor(shape: [n, k])
        var expected = 0.0
        for r in 0..<n {
            let p = softmax(logits[r]), q = softmax(other[r])
            let y = (0..<k).map { 0.7 * p[$0] + 0.4 * q[$0] }
            for c in 0..<k { x[r * k + c] = Float(y[c]) }
            expected -= log((0.7 * p[Int(labels[r])] + 0.4 * q[Int(labels[r])]) / 1.1)
        }
        expected /= Double(n)
        let loss = MixtureNLLLoss()
        try compareWithFiniteDifferences(loss, x, labels: labels, step: 1e-3)
        try labels.withUnsafeBufferPointer { t in
            let value = try loss.compute(output: x, targets: t.baseAddress!, gradient: nil)
            #expect(abs(value.loss - expected) < 1e-6, "\(value.loss) vs \(expected)")
            // One head (a telescoping ensemble): the loss is the head's cross-entropy.
            let single = Tensor(shape: [n, k]), z = Tensor(shape: [n, k])
            for r in 0..<n {
                let p = softmax(logits[r])
                for c in 0..<k { single[r * k + c] = Float(0.3 * p[c]); z[r * k + c] = Float(logits[r][c]) }
            }
            let a = try loss.compute(output: single, targets: t.baseAddress!, gradient: nil)
            let b = try CrossEntropyLoss().compute(output: z, targets: t.baseAddress!, gradient: nil)
            #expect(abs(a.loss - b.loss) < 1e-5 && a.correct == b.correct, "\(a) vs \(b)")
            // Logits are not mixture weights.
            #expect(throws: CoreError.self) { try loss.compute(output: z, targets: t.baseAddress!, gradient: nil) }
        }
    }

    @Test func outOfRangeLabelIsAnError() throws {
        let x = Tensor(shape: [2, 3])
        let labels: [Int32] = [1, 3]
        #expect(throws: CoreError.badInput("cross_entropy loss: label 3 of batch row 1 is outside the model's 3 classes")) {
            try labels.withUnsafeBufferPointer { try CrossEntropyLoss().compute(output: x, targets: $0.baseAddress!, gradient: nil) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
