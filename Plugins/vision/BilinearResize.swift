import StrataKit

/// Bilinear resizing of `[N, C, H, W]` images to `[N, C, round(scale·H), round(scale·W)]`
/// (each at least 1), as PyTorch's `F.interpolate(x, size=…, mode="bilinear",
/// align_corners=False)` computes it for that size: output pixel `o` samples the input at
/// `(o + 0.5)·(in / out) − 0.5`, clamped below at 0, between its two neighbours (the upper
/// one clamped to the last pixel). No anti-aliasing when shrinking. Backward spreads each
/// output gradient over the same two-by-two input pixels with the same weights.
///
/// MobileNet's resolution multiplier ρ is this layer with `scale` ρ in front of the network.
/// Option `scale`: greater than 0, at most 8. Has no parameters.
final class BilinearResize: KitLayer {
    let scale: Double

    init(config: KitConfig) throws {
        let scale = try config.double("scale", default: 1)
        guard scale > 0, scale <= 8 else { throw KitError.invalidArgument("scale must be greater than 0 and at most 8, got \(scale)") }
        self.scale = scale
    }

    /// `round(scale·n)`, at least 1.
    static func resized(_ n: Int, _ scale: Double) -> Int { max(1, Int((Double(n) * scale).rounded())) }

    func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 4 else { throw KitError.shapeMismatch("expects [N, C, H, W] input, got \(inputShape)") }
        return [inputShape[0], inputShape[1], Self.resized(inputShape[2], scale), Self.resized(inputShape[3], scale)]
    }

    /// For each output index along one axis: the two input indices and the second one's weight.
    static func taps(input n: Int, output m: Int) -> [(Int, Int, Float)] {
        let ratio = Double(n) / Double(m)
        return (0..<m).map { o in
            let src = max(0, (Double(o) + 0.5) * ratio - 0.5)
            let i0 = min(Int(src), n - 1)
            let i1 = min(i0 + 1, n - 1)
            return (i0, i1, Float(src - Double(i0)))
        }
    }

    /// Calls `body(inputPlane, outputPlane, rowTaps, columnTaps)` for every (example, channel).
    private func planes(_ input: [Int], _ output: [Int],
                        _ body: (Int, Int, [(Int, Int, Float)], [(Int, Int, Float)]) -> Void) throws {
        guard input.count == 4, output.count == 4, input[0] == output[0], input[1] == output[1],
              output[2] == Self.resized(input[2], scale), output[3] == Self.resized(input[3], scale) else {
            throw KitError.shapeMismatch("input \(input) does not resize by \(scale) to \(output)")
        }
        let rows = Self.taps(input: input[2], output: output[2]), cols = Self.taps(input: input[3], output: output[3])
        for p in 0..<(input[0] * input[1]) { body(p * input[2] * input[3], p * output[2] * output[3], rows, cols) }
    }

    func forward(input: KitTensor, output: KitTensor, training: Bool) throws {
        let x = input.buffer, y = output.buffer, w = input.shape[3], ow = output.shape[3]
        try planes(input.shape, output.shape) { xi, yi, rows, cols in
            for (r, (r0, r1, a)) in rows.enumerated() {
                for (c, (c0, c1, b)) in cols.enumerated() {
                    let top = x[xi + r0 * w + c0] * (1 - b) + x[xi + r0 * w + c1] * b
                    let bottom = x[xi + r1 * w + c0] * (1 - b) + x[xi + r1 * w + c1] * b
                    y[yi + r * ow + c] = top * (1 - a) + bottom * a
                }
            }
        }
    }

    func backward(input: KitTensor, output: KitTensor, gradOutput: KitTensor, gradInput: KitTensor?) throws {
        guard let gradInput else { return }
        let dy = gradOutput.buffer, dx = gradInput.buffer, w = input.shape[3], ow = output.shape[3]
        guard gradInput.count == input.count, gradOutput.count == output.count else {
            throw KitError.shapeMismatch("gradients of \(gradInput.count) and \(gradOutput.count) elements for input \(input.shape), output \(output.shape)")
        }
        for i in 0..<dx.count { dx[i] = 0 }
        try planes(input.shape, output.shape) { xi, yi, rows, cols in
            for (r, (r0, r1, a)) in rows.enumerated() {
                for (c, (c0, c1, b)) in cols.enumerated() {
                    let g = dy[yi + r * ow + c]
                    dx[xi + r0 * w + c0] += g * (1 - a) * (1 - b)
                    dx[xi + r0 * w + c1] += g * (1 - a) * b
                    dx[xi + r1 * w + c0] += g * a * (1 - b)
                    dx[xi + r1 * w + c1] += g * a * b
                }
            }
        }
    }
}
