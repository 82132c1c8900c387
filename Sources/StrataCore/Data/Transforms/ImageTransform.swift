/// One step of a recipe's transform list (`data.train_transforms`, `data.eval_transforms`).
public enum ImageTransform: Sendable, Equatable {
    /// Bilinear resize (antialiased when shrinking) to `height × width`.
    case resize(height: Int, width: Int)
    /// The central `height × width` window.
    case centerCrop(height: Int, width: Int)
    /// A random window of area fraction in `scale` and aspect ratio in `ratio`, resized to `height × width`.
    case randomResizedCrop(height: Int, width: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>)
    /// Zero padding of `pad` pixels per side, then a random window of the original size.
    case padCrop(pad: Int)
    /// Left-right mirroring with probability `probability`.
    case horizontalFlip(probability: Double)

    /// Whether the step draws random numbers.
    public var isRandom: Bool {
        switch self {
        case .resize, .centerCrop: return false
        case .randomResizedCrop, .padCrop, .horizontalFlip: return true
        }
    }

    /// `[C, H, W]` after this step, given `[C, H, W]` before it.
    public func outputShape(_ shape: [Int]) -> [Int] {
        switch self {
        case let .resize(h, w), let .centerCrop(h, w), let .randomResizedCrop(h, w, _, _): return [shape[0], h, w]
        case .padCrop, .horizontalFlip: return shape
        }
    }

    /// The step applied to `image`, drawing from `random` when it is random.
    public func apply(_ image: FloatImage, random: inout RandomStream) -> FloatImage {
        switch self {
        case let .resize(h, w):
            return Resize.apply(image, height: h, width: w)
        case let .centerCrop(h, w):
            return CenterCrop.apply(image, height: h, width: w)
        case let .randomResizedCrop(h, w, scale, ratio):
            let window = RandomResizedCrop.draw(height: image.height, width: image.width, scale: scale, ratio: ratio, random: &random)
            return RandomResizedCrop.apply(image, window: window, height: h, width: w)
        case let .padCrop(pad):
            let corner = PadCrop.draw(pad: pad, random: &random)
            return PadCrop.apply(image, pad: pad, top: corner.top, left: corner.left)
        case let .horizontalFlip(p):
            return HorizontalFlip.draw(probability: p, random: &random) ? HorizontalFlip.apply(image) : image
        }
    }
}
