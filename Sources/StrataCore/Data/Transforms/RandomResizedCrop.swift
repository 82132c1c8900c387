#if canImport(Glibc)
import Glibc
#endif

/// A random window of random area and aspect ratio, resized to `height × width`: torchvision's
/// `RandomResizedCrop(size, scale, ratio)` (the ImageNet augmentation).
///
/// The window is drawn as torchvision draws it: up to ten tries of an area fraction uniform in
/// `scale` and an aspect ratio log-uniform in `ratio`, sides `round(√(area·ratio))` ×
/// `round(√(area/ratio))`, kept when it fits, at a uniform position; otherwise the central
/// crop of the whole image clamped to the ratio range.
public enum RandomResizedCrop {
    /// A window: top row, left column, height and width in input pixels.
    public struct Window: Equatable, Sendable {
        public var top: Int, left: Int, height: Int, width: Int
        public init(top: Int, left: Int, height: Int, width: Int) {
            (self.top, self.left, self.height, self.width) = (top, left, height, width)
        }
    }

    public static func draw(height: Int, width: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>,
                            random: inout RandomStream) -> Window {
        let area = Double(height * width)
        let logRatio = (log(ratio.lowerBound), log(ratio.upperBound))
        for _ in 0..<10 {
            let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * random.nextDouble())
            let aspect = exp(logRatio.0 + (logRatio.1 - logRatio.0) * random.nextDouble())
            let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0, w <= width, h > 0, h <= height {
                let top = Int(random.next(below: UInt64(height - h + 1)))
                let left = Int(random.next(below: UInt64(width - w + 1)))
                return Window(top: top, left: left, height: h, width: w)
            }
        }
        let inRatio = Double(width) / Double(height)
        var (w, h) = (width, height)
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return Window(top: (height - h) / 2, left: (width - w) / 2, height: h, width: w)
    }

    /// The window cut out and resized to `height × width` (torchvision's `resized_crop`).
    public static func apply(_ image: FloatImage, window: Window, height: Int, width: Int) -> FloatImage {
        Resize.apply(image.cropped(top: window.top, left: window.left, height: window.height, width: window.width),
                     height: height, width: width)
    }
}
