/// Left-right mirroring: torchvision's `RandomHorizontalFlip(p)` when drawn.
public enum HorizontalFlip {
    /// Whether to flip, with probability `p`.
    public static func draw(probability p: Double, random: inout RandomStream) -> Bool {
        random.nextDouble() < p
    }

    public static func apply(_ image: FloatImage) -> FloatImage {
        var out = image
        let w = image.width
        for row in 0..<(image.channels * image.height) {
            for x in 0..<w { out.values[row * w + x] = image.values[row * w + (w - 1 - x)] }
        }
        return out
    }
}
