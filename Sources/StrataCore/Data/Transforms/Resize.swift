#if canImport(Glibc)
import Glibc
#endif

/// Bilinear resizing with antialiasing when shrinking: torchvision's `Resize(antialias=True)`
/// (PIL's and `_upsample_bilinear2d_aa`'s algorithm), separable, width first then height.
///
/// Each output pixel `i` along an axis of `n` input pixels scaled to `m` has its centre at
/// `(i + 0.5) · s` input pixels, `s = n / m`; it averages the input pixels within
/// `support = max(s, 1)` of that centre, weighted by the triangle `1 - |d| / support`
/// (`d` the distance between centres), the weights normalised to sum to 1. When enlarging
/// (`s < 1`) this is plain bilinear interpolation with half-pixel centres.
public enum Resize {
    /// `image` resized to `height × width`.
    public static func apply(_ image: FloatImage, height: Int, width: Int) -> FloatImage {
        var current = image
        if current.width != width { current = resizeWidth(current, to: width) }
        if current.height != height { current = resizeHeight(current, to: height) }
        return current
    }

    /// Taps of one output pixel: the first input index and the normalised weights.
    struct Taps {
        var start: Int
        var weights: [Float]
    }

    /// The taps of every output pixel when `input` pixels become `output` (PIL's `precompute_coeffs`).
    static func taps(input: Int, output: Int) -> [Taps] {
        let scale = Double(input) / Double(output)
        let filterScale = max(scale, 1)
        let support = filterScale // the triangle filter has support 1
        return (0..<output).map { i in
            let centre = (Double(i) + 0.5) * scale
            let low = max(Int(centre - support + 0.5), 0)          // C truncation, as PIL
            let high = min(Int(centre + support + 0.5), input)
            var weights: [Double] = []
            for j in low..<max(low, high) {
                let d = (Double(j) - centre + 0.5) / filterScale
                weights.append(max(0, 1 - abs(d)))
            }
            let total = weights.reduce(0, +)
            return Taps(start: low, weights: weights.map { Float(total > 0 ? $0 / total : 0) })
        }
    }

    static func resizeWidth(_ image: FloatImage, to width: Int) -> FloatImage {
        let taps = taps(input: image.width, output: width)
        var out = [Float](repeating: 0, count: image.channels * image.height * width)
        for row in 0..<(image.channels * image.height) {
            let source = row * image.width
            for x in 0..<width {
                var sum: Float = 0
                for (k, w) in taps[x].weights.enumerated() { sum += w * image.values[source + taps[x].start + k] }
                out[row * width + x] = sum
            }
        }
        return FloatImage(channels: image.channels, height: image.height, width: width, values: out)
    }

    static func resizeHeight(_ image: FloatImage, to height: Int) -> FloatImage {
        let taps = taps(input: image.height, output: height)
        let w = image.width
        var out = [Float](repeating: 0, count: image.channels * height * w)
        for c in 0..<image.channels {
            for y in 0..<height {
                let destination = (c * height + y) * w
                for (k, weight) in taps[y].weights.enumerated() {
                    let source = (c * image.height + taps[y].start + k) * w
                    for x in 0..<w { out[destination + x] += weight * image.values[source + x] }
                }
            }
        }
        return FloatImage(channels: image.channels, height: height, width: w, values: out)
    }
}
