/// A recipe's transforms for one purpose (training or evaluation), in order, then the conversion
/// to model input: `x / 255` (torchvision's `ToTensor`) and, when given, per-channel
/// `(x - mean) / std` (`Normalize`).
///
/// Randomness is a pure function of `(seed, epoch, example index)`: each example gets its own
/// ``RandomStream``, so the batches are the same bit for bit whatever thread prepares them and
/// in whatever order.
public struct TransformPipeline: Sendable, Equatable {
    /// How the inputs are normalised.
    public enum Normalization: Sendable, Equatable {
        /// `x / 255` only.
        case none
        /// Given per-channel statistics on the 0...1 scale.
        case fixed(BatchLoader.Normalization)
        /// Statistics computed from the training split when the run starts (``resolved(statistics:)``).
        case auto
    }

    public var transforms: [ImageTransform]
    public var normalization: Normalization

    public init(transforms: [ImageTransform] = [], normalization: Normalization = .none) {
        self.transforms = transforms
        self.normalization = normalization
    }

    /// Whether any step draws random numbers.
    public var isRandom: Bool { transforms.contains { $0.isRandom } }

    /// `[C, H, W]` of the model input, given that of the stored images.
    public func outputShape(_ input: [Int]) -> [Int] {
        transforms.reduce(input) { $1.outputShape($0) }
    }

    /// The pipeline with ``Normalization/auto`` replaced by `statistics`.
    public func resolved(statistics: BatchLoader.Normalization) -> TransformPipeline {
        var copy = self
        if copy.normalization == .auto { copy.normalization = .fixed(statistics) }
        return copy
    }

    /// The random stream of example `index` in `epoch` under `seed`.
    public static func randomStream(seed: UInt64, epoch: Int, index: Int) -> RandomStream {
        RandomStream(seed: seed ^ SplitMix64.mix(UInt64(truncatingIfNeeded: epoch) &+ 0x5851_F42D_4C95_7F2D),
                     stream: UInt64(truncatingIfNeeded: index))
    }

    /// `image` through the transforms, as floats on the 0...255 scale.
    public func transform(_ image: FloatImage, random: inout RandomStream) -> FloatImage {
        transforms.reduce(image) { $1.apply($0, random: &random) }
    }

    /// `image` through the whole pipeline, written as model input into `destination`
    /// (`C × H × W` floats of ``outputShape(_:)``).
    public func run(_ image: FloatImage, random: inout RandomStream, into destination: UnsafeMutablePointer<Float>) {
        let out = transform(image, random: &random)
        let plane = out.height * out.width
        for c in 0..<out.channels {
            if case let .fixed(n) = normalization {
                for i in 0..<plane { destination[c * plane + i] = (out.values[c * plane + i] / 255 - n.mean[c]) / n.std[c] }
            } else {
                for i in 0..<plane { destination[c * plane + i] = out.values[c * plane + i] / 255 }
            }
        }
    }
}

extension ImageDataset {
    /// Per-channel mean and (population) standard deviation of the pixels on the 0...1 scale,
    /// for `"mean": "auto"`.
    public func channelStatistics() -> BatchLoader.Normalization {
        var mean = [Float](), std = [Float]()
        let plane = height * width
        withPixels { pixels in
            for c in 0..<channels {
                var sum = 0.0, squares = 0.0
                for n in 0..<count {
                    let base = (n * channels + c) * plane
                    for i in 0..<plane {
                        let x = Double(pixels[base + i]) / 255
                        sum += x
                        squares += x * x
                    }
                }
                let total = Double(max(1, count * plane))
                let m = sum / total
                mean.append(Float(m))
                std.append(Float(max(squares / total - m * m, 1e-12).squareRoot()))
            }
        }
        return BatchLoader.Normalization(mean: mean, std: std)
    }
}
