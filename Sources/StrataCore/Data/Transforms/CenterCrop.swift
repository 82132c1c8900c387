/// The central `height × width` window: torchvision's `CenterCrop`, whose offsets are
/// `round((H - h) / 2)` with Python's rounding (half to even); along a side where the window is
/// larger than the image, the image is padded with zeros, `(h - H) / 2` (rounded down) before it.
public enum CenterCrop {
    public static func apply(_ image: FloatImage, height: Int, width: Int) -> FloatImage {
        image.cropped(top: offset(image.height, height), left: offset(image.width, width), height: height, width: width)
    }

    /// First input index of the window along a side of `input` pixels cut to `output`.
    static func offset(_ input: Int, _ output: Int) -> Int {
        output > input ? -((output - input) / 2) : Int((Double(input - output) / 2).rounded(.toNearestOrEven))
    }
}
