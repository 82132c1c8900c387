/// Zero padding of `pad` pixels on each side, then a random window of the original size:
/// torchvision's `RandomCrop(size, padding=pad)`, the CIFAR augmentation.
public enum PadCrop {
    /// The window's corner in the padded image, each in `0...2·pad`: row first, then column.
    public static func draw(pad: Int, random: inout RandomStream) -> (top: Int, left: Int) {
        let top = Int(random.next(below: UInt64(2 * pad + 1)))
        let left = Int(random.next(below: UInt64(2 * pad + 1)))
        return (top, left)
    }

    /// The window at `(top, left)` of the padded image.
    public static func apply(_ image: FloatImage, pad: Int, top: Int, left: Int) -> FloatImage {
        image.cropped(top: top - pad, left: left - pad, height: image.height, width: image.width)
    }
}
