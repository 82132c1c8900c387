/// One image as floats on the byte scale (0...255), `[channels, height, width]` planar: what the
/// transforms work on, so no rounding happens between them.
public struct FloatImage: Sendable, Equatable {
    public var channels: Int
    public var height: Int
    public var width: Int
    /// Values, `[channels, height, width]` row-major.
    public var values: [Float]

    public init(channels: Int, height: Int, width: Int, values: [Float]) {
        self.channels = channels
        self.height = height
        self.width = width
        self.values = values
    }

    /// The bytes of `image` as floats.
    public init(_ image: PixelImage) {
        self.init(channels: image.channels, height: image.height, width: image.width, values: image.bytes.map(Float.init))
    }

    /// Rounded to the nearest byte and clamped to 0...255 (what an 8-bit image stores).
    public var rounded: PixelImage {
        PixelImage(channels: channels, height: height, width: width,
                   bytes: values.map { UInt8(max(0, min(255, $0.rounded(.toNearestOrEven)))) })
    }

    /// The `height × width` window whose top-left corner is `(top, left)`; parts outside the image
    /// are 0 (torchvision pads a crop larger than the image with zeros).
    public func cropped(top: Int, left: Int, height h: Int, width w: Int) -> FloatImage {
        var out = [Float](repeating: 0, count: channels * h * w)
        for c in 0..<channels {
            for y in 0..<h {
                let sy = y + top
                guard sy >= 0, sy < height else { continue }
                for x in 0..<w {
                    let sx = x + left
                    guard sx >= 0, sx < width else { continue }
                    out[(c * h + y) * w + x] = values[(c * height + sy) * width + sx]
                }
            }
        }
        return FloatImage(channels: channels, height: h, width: w, values: out)
    }
}
