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
        let labels: [Int32] = [0, 3, 6, 2, 5]
        let grad = Tensor(shape: [n, k])
        try labels.withUnsafeBufferPointer { t in
            _ = try loss.compute(output: x, targets: t.baseAddress!, gradient: grad)
            let h: Float = 1e-2
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

    @Test func outOfRangeLabelIsAnError() throws {
        let x = Tensor(shape: [2, 3])
        let labels: [Int32] = [1, 3]
        #expect(throws: StrataError.badInput("cross_entropy loss: label 3 of batch row 1 is outside the model's 3 classes")) {
            try labels.withUnsafeBufferPointer { try CrossEntropyLoss().compute(output: x, targets: $0.baseAddress!, gradient: nil) }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
