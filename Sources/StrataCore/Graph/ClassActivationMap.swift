import Foundation

/// Class activation maps (Zhou et al., 2016, as fast.ai's lesson 7 draws them): where in an image
/// the evidence for a class lies.
///
/// For a network whose head is a global pool over features `F` `[C, h, w]` followed by a linear
/// layer `W` `[K, C]` (a flatten or dropout may sit between them), the map of class `c` is
///
///     m[y, x] = max(0, Σ_k W[c, k] · F[k, y, x])
///     m = (m − min m) / max(m − min m)        (all zeros when m is constant)
///
/// at the features' resolution, then upsampled bilinearly to the input size (PyTorch's
/// `interpolate(mode="bilinear", align_corners=False)`). With global average pooling `m` before
/// the clamp is exactly the class score per position (minus the bias, divided by h·w); with global
/// max pooling (fast.ai's small ResNet) it is the same weighted sum, the usual approximation.
///
/// The features are captured by a ``ForwardHook`` on the layer that feeds the pool.
public struct ClassActivationMap {
    /// One image's map.
    public struct Result {
        /// The class with the highest score.
        public let predicted: Int
        /// The class the map is of (`predicted` unless one was asked for).
        public let mapClass: Int
        /// Softmax of the model's output, `[K]`.
        public let probabilities: [Double]
        /// The normalised map at the features' resolution, `[h, w]` row-major, values in 0...1.
        public let map: [Float]
        public let height: Int
        public let width: Int

        /// The map upsampled bilinearly to `height × width`.
        public func upsampled(height outH: Int, width outW: Int) -> [Float] {
            ClassActivationMap.upsample(map, height: height, width: width, toHeight: outH, toWidth: outW)
        }
    }

    /// Dotted path of the layer whose output is pooled (`""` when it has no name of its own).
    public let featureLayer: String
    /// Kind of the pooling layer of the head (`adaptive_avgpool2d`, `adaptive_maxpool2d`).
    public let poolKind: String
    private let feature: any Layer
    private let head: Linear

    /// Finds the head of `model`: its last layers, through nested `sequential`s, must be a layer
    /// with `[C, h, w]` output, a global pool, optionally flatten or dropout, and a linear layer.
    /// Throws bad input describing what the model ends with otherwise.
    public init(model: Model) throws {
        let items = Self.sequence(model.root, path: "")
        let tail = items.suffix(4).map { $0.path.isEmpty ? $0.layer.kind : "\($0.path) (\($0.layer.kind))" }.joined(separator: ", ")
        func refuse(_ why: String) -> CoreError {
            .badInput("class activation map: \(why); the model ends with \(tail). A map needs a head that is a global pool "
                      + "(adaptive_avgpool2d or adaptive_maxpool2d with output size 1) followed by a linear layer, "
                      + "with only flatten or dropout between them")
        }
        var i = items.count - 1
        guard i >= 0, let linear = items[i].layer as? Linear else { throw refuse("the last layer is not linear") }
        i -= 1
        while i >= 0, items[i].layer is Flatten || items[i].layer is Dropout { i -= 1 }
        guard i >= 0 else { throw refuse("there is no layer before the linear one") }
        let pool = items[i].layer
        let global = pool is GlobalPool2d || (pool as? AdaptivePool2d).map { $0.outputSize == (1, 1) } ?? false
        guard global else { throw refuse("the layer before the linear one is \(pool.kind), not a global pool") }
        guard i >= 1 else { throw refuse("the global pool is the first layer; there are no features to map") }
        guard let shape = Self.outputShape(model, items[i - 1].layer),
              shape.count == 4 else {
            throw refuse("the pooled layer \(items[i - 1].path) does not give [C, h, w] features")
        }
        featureLayer = items[i - 1].path
        feature = items[i - 1].layer
        poolKind = pool.kind
        head = linear
    }

    /// The output shape of `layer` in `model` by object identity (for layers sharing a name).
    private static func outputShape(_ model: Model, _ layer: any Layer) -> [Int]? {
        model.root.namedLayers().first { $0.layer === layer }.flatMap { model.layerShapes[$0.name] }
    }

    /// The layers of `layer` in forward order, nested `sequential`s opened, with dotted paths.
    static func sequence(_ layer: any Layer, path: String) -> [(path: String, layer: any Layer)] {
        guard let s = layer as? Sequential else { return [(path, layer)] }
        return s.layers.flatMap { name, child in
            sequence(child, path: path.isEmpty || name.isEmpty ? path + name : path + "." + name)
        }
    }

    /// Runs `model` on one example `input` (`[1] + exampleShape`, model input already
    /// normalised) and returns the map of `mapClass` (default: the predicted class).
    public func compute(model: Model, input: Tensor, mapClass: Int? = nil) throws -> Result {
        let hook = ForwardHook(layer: featureLayer, target: feature, onOutput: nil)
        ForwardHooks.add(hook)
        defer { hook.remove() }
        let out = try model.forward(input.batchPrefix(1), training: false)  // [1, K]
        let classes = out.count
        let scores = (0..<classes).map { Double(out.data[$0]) }
        let top = scores.max() ?? 0
        let exps = scores.map { exp($0 - top) }
        let total = exps.reduce(0, +)
        var predicted = 0
        for k in 0..<classes where scores[k] > scores[predicted] { predicted = k }
        let c = mapClass ?? predicted
        guard c >= 0 && c < classes else {
            throw CoreError.badInput(.argument("--class \(c)"), "--class \(c): the model has \(classes) classes (0 to \(classes - 1))")
        }
        guard let f = hook.output, f.shape.count == 4 else {
            throw CoreError.runtime("class activation map: the layer \(featureLayer) gave no [1, C, h, w] output")
        }
        let (channels, h, w) = (f.shape[1], f.shape[2], f.shape[3])  // F: [1, C, h, w]
        let weight = head.weight.value                                // W: [K, C]
        guard weight.shape == [classes, channels] else {
            throw CoreError.runtime("class activation map: the linear weight is \(weight.shape), the features have \(channels) channels")
        }
        var m = [Float](repeating: 0, count: h * w)                   // [h, w]
        for k in 0..<channels {
            let wk = weight.data[c * channels + k], plane = f.data + k * h * w
            for i in 0..<(h * w) { m[i] += wk * plane[i] }
        }
        for i in m.indices { m[i] = max(m[i], 0) }
        let low = m.min() ?? 0
        for i in m.indices { m[i] -= low }
        if let high = m.max(), high > 0 { for i in m.indices { m[i] /= high } }
        return Result(predicted: predicted, mapClass: c, probabilities: exps.map { $0 / total }, map: m, height: h, width: w)
    }

    /// Bilinear resampling of `map` (`[h, w]`) to `[outH, outW]` with PyTorch's
    /// `align_corners=False` convention: output pixel `o` samples input position
    /// `(o + 0.5) · h / outH − 0.5`, clamped at 0.
    public static func upsample(_ map: [Float], height h: Int, width w: Int, toHeight outH: Int, toWidth outW: Int) -> [Float] {
        func taps(_ size: Int, _ outSize: Int) -> [(Int, Int, Float)] {
            let scale = Float(size) / Float(outSize)
            return (0..<outSize).map { o in
                let src = max((Float(o) + 0.5) * scale - 0.5, 0)
                let i0 = min(Int(src), size - 1)
                return (i0, min(i0 + 1, size - 1), src - Float(i0))
            }
        }
        let rows = taps(h, outH), cols = taps(w, outW)
        var out = [Float](repeating: 0, count: outH * outW)
        for (y, (r0, r1, ly)) in rows.enumerated() {
            for (x, (c0, c1, lx)) in cols.enumerated() {
                let top = (1 - lx) * map[r0 * w + c0] + lx * map[r0 * w + c1]
                let bottom = (1 - lx) * map[r1 * w + c0] + lx * map[r1 * w + c1]
                out[y * outW + x] = (1 - ly) * top + ly * bottom
            }
        }
        return out
    }

    /// `image` (0...255, `[C, H, W]`, C 1 or 3) with `heat` (`[H, W]`, 0...1) blended over it at
    /// `alpha` in the "jet" colour map (blue for 0, red for 1), as an RGB image.
    public static func overlay(image: FloatImage, heat: [Float], alpha: Float = 0.5) -> PixelImage {
        let plane = image.height * image.width
        var out = [UInt8](repeating: 0, count: plane * 3)
        for i in 0..<plane {
            let v = min(max(heat[i], 0), 1)
            let jet = [1.5 - abs(4 * v - 3), 1.5 - abs(4 * v - 2), 1.5 - abs(4 * v - 1)].map { min(max($0, 0), 1) * 255 }
            for ch in 0..<3 {
                let pixel = image.values[(image.channels == 3 ? ch : 0) * plane + i]
                out[ch * plane + i] = UInt8(min(max(((1 - alpha) * pixel + alpha * jet[ch]).rounded(), 0), 255))
            }
        }
        return PixelImage(channels: 3, height: image.height, width: image.width, bytes: out)
    }
}
