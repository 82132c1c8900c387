#if canImport(Glibc)
import Glibc
#endif

/// Local response normalisation across channels (AlexNet), as PyTorch's `LocalResponseNorm`:
/// `y_c = x_c · s_c^(−β)` with `s_c = k + α/size · Σ_{c' ∈ w(c)} x_{c'}²`, where the window
/// `w(c) = c − ⌊size/2⌋ … c + ⌊(size−1)/2⌋` is cut at the first and last channel.
/// Backward: `dx_i = dy_i · s_i^(−β) − 2αβ/size · x_i · Σ_{c : i ∈ w(c)} dy_c · x_c · s_c^(−β−1)`.
/// Input `[N, C, ...]`; the forward pass keeps `s` (`[N, C, ...]`) for backward.
public final class LocalResponseNorm: Layer {
    public let kind = "local_response_norm"
    public let size: Int
    public let alpha: Float
    public let beta: Float
    public let k: Float
    private var scale: Tensor?

    public init(size: Int, alpha: Float = 1e-4, beta: Float = 0.75, k: Float = 1) {
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count >= 3 else { throw ShapeError("expects [N, C, ...] input with spatial dimensions, got \(describe(inputShape))") }
        try context.reserve(inputShape, for: "the normalisation scale")
        scale = Tensor(shape: inputShape)
        return inputShape
    }

    private var before: Int { size / 2 }
    private var after: Int { (size - 1) / 2 }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        let n = input.shape[0], c = input.shape[1], inner = input.shape.dropFirst(2).reduce(1, *)
        let x = input.data, y = output.data, s = scale!.data
        let a = alpha / Float(size)
        for e in 0..<n {
            for ch in 0..<c {
                let lo = max(0, ch - before), hi = min(c - 1, ch + after)
                let out = (e * c + ch) * inner
                for q in 0..<inner {
                    var sum: Float = 0
                    for j in lo...hi { let v = x[(e * c + j) * inner + q]; sum += v * v }
                    let sc = k + a * sum
                    s[out + q] = sc
                    y[out + q] = x[out + q] * powf(sc, -beta)
                }
            }
        }
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        guard let gradInput else { return }
        let n = input.shape[0], c = input.shape[1], inner = input.shape.dropFirst(2).reduce(1, *)
        let x = input.data, dy = gradOutput.data, dx = gradInput.data, s = scale!.data
        let factor = 2 * alpha * beta / Float(size)
        for e in 0..<n {
            for i in 0..<c {
                // channels c whose window holds i: c − before ≤ i ≤ c + after
                let lo = max(0, i - after), hi = min(c - 1, i + before)
                let at = (e * c + i) * inner
                for q in 0..<inner {
                    var acc: Float = 0
                    for ch in lo...hi {
                        let idx = (e * c + ch) * inner + q
                        acc += dy[idx] * x[idx] * powf(s[idx], -beta - 1)
                    }
                    dx[at + q] = dy[at + q] * powf(s[at + q], -beta) - factor * x[at + q] * acc
                }
            }
        }
    }
}
