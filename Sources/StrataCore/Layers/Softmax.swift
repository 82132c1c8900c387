#if canImport(Glibc)
import Glibc
#endif

/// Softmax over dimension 1, as PyTorch's `nn.Softmax(dim=1)`: for `[N, K]` scores each row sums
/// to 1; for `[N, C, ...]` each position's C values do. `y = exp(x − max) / Σ exp(x − max)`;
/// backward `dx = y ⊙ (dy − Σ_c dy·y)`.
public final class Softmax: Layer {
    public let kind = "softmax"
    public init() {}

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count >= 2 else { throw ShapeError("expects [N, C, ...] input, got \(describe(inputShape))") }
        return inputShape
    }

    /// (batch, channels along dimension 1, elements per channel)
    private func extents(_ t: Tensor) -> (Int, Int, Int) {
        (t.shape[0], t.shape[1], t.shape.dropFirst(2).reduce(1, *))
    }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        let (n, c, inner) = extents(input)
        let x = input.data, y = output.data
        for e in 0..<n {
            for q in 0..<inner {
                let base = e * c * inner + q
                var m = -Float.infinity
                for k in 0..<c { m = max(m, x[base + k * inner]) }
                var sum: Float = 0
                for k in 0..<c {
                    let v = expf(x[base + k * inner] - m)
                    y[base + k * inner] = v
                    sum += v
                }
                for k in 0..<c { y[base + k * inner] /= sum }
            }
        }
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        guard let gradInput else { return }
        let (n, c, inner) = extents(input)
        let y = output.data, dy = gradOutput.data, dx = gradInput.data
        for e in 0..<n {
            for q in 0..<inner {
                let base = e * c * inner + q
                var dot: Float = 0
                for k in 0..<c { dot += dy[base + k * inner] * y[base + k * inner] }
                for k in 0..<c { dx[base + k * inner] = y[base + k * inner] * (dy[base + k * inner] - dot) }
            }
        }
    }
}
