import Foundation

/// Gradient clipping in the training loop, between the backward pass and the optimizer step
/// (recipe `"gradient_clip"`):
///
/// - `value`: every gradient element clamped to `[−value, value]` (`torch.nn.utils.clip_grad_value_`;
///   a boosted network's reference code clamps at 0.1);
/// - `max_norm`: all gradients scaled by `max_norm / (‖g‖ + 1e-6)` when the global L2 norm `‖g‖`
///   over every trainable parameter exceeds `max_norm` (`torch.nn.utils.clip_grad_norm_`).
///
/// With both, the values are clamped first and the norm is taken of the clamped gradients. The
/// norm the step saw (before scaling) is returned and logged per epoch in `metrics.jsonl`
/// (`grad_norm`, the mean over the epoch's batches, and `grad_norm_max`).
public struct GradientClipping: Sendable, Equatable {
    public var value: Float?
    public var maxNorm: Double?

    public init(value: Float? = nil, maxNorm: Double? = nil) {
        self.value = value
        self.maxNorm = maxNorm
    }

    /// Clips `gradients` in place; returns their global L2 norm after the value clamp and before
    /// the norm scaling.
    @discardableResult
    public func apply(_ gradients: [Tensor]) -> Double {
        if let value {
            for g in gradients {
                let p = g.data
                for i in 0..<g.count { p[i] = min(max(p[i], -value), value) }
            }
        }
        var sum = 0.0
        for g in gradients {
            let p = g.data
            for i in 0..<g.count { sum += Double(p[i]) * Double(p[i]) }
        }
        let norm = sum.squareRoot()
        if let maxNorm, norm > maxNorm {
            let scale = Float(maxNorm / (norm + 1e-6))
            for g in gradients {
                let p = g.data
                for i in 0..<g.count { p[i] *= scale }
            }
        }
        return norm
    }

    /// Reads `$.gradient_clip`: `{"value": v}`, `{"max_norm": n}` or both, each positive.
    static func parse(_ value: JSONValue?, diagnostics: Diagnostics) -> GradientClipping? {
        guard let value else { return nil }
        var c = ConfigReader(value, path: "$.gradient_clip", diagnostics: diagnostics)
        var clip = GradientClipping()
        if c.has("value") { clip.value = Float(c.double("value", default: 1, in: 0...1e12, openLower: true)) }
        if c.has("max_norm") { clip.maxNorm = c.double("max_norm", default: 1, in: 0...1e12, openLower: true) }
        c.finish()
        if clip.value == nil && clip.maxNorm == nil {
            diagnostics.error(at: "$.gradient_clip", "expected \"value\" (clamp each element), \"max_norm\" (scale to a global L2 norm) or both")
            return nil
        }
        return clip
    }
}
