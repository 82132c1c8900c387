import Foundation

/// Test-time augmentation (fast.ai's `learn.TTA()`): each test image is scored as it is and as a
/// few augmented copies, and the class probabilities (softmax of the model's output) are averaged
/// over the copies before the log loss and the accuracy are taken.
///
/// The copies ("views") are fixed, not random, so a result does not depend on a seed:
///
/// 1. the image as the evaluation pipeline makes it (the plain evaluation);
/// 2. its mirror image (left-right), when `flip`;
/// 3. when `shift` = s > 0, four shifted copies: the image mirror-padded by s pixels (OpenCV's
///    `BORDER_REFLECT`, the padding fast.ai 0.7's crops use) and cropped back to its size at the
///    four diagonal offsets (−s, −s), (−s, +s), (+s, −s), (+s, +s) (rows, columns).
///
/// With the defaults (`flip` true, `shift` 2) that is the original and 5 augmented copies;
/// fast.ai 0.7 draws 4 random ones (random crops and flips of the training transforms). The
/// views are made from the normalised model input; mirroring and mirror padding commute with the
/// per-channel affine normalisation, so that is the same as augmenting the pixels.
public struct TTAOptions: Sendable, Equatable {
    /// Add the left-right mirror image.
    public var flip: Bool
    /// Pixels of the four diagonal shifts (0: none).
    public var shift: Int

    public init(flip: Bool = true, shift: Int = 2) {
        self.flip = flip
        self.shift = shift
    }

    /// Reads `$.evaluation.tta`: `true` (the defaults), `false` (none) or `{"flip": bool, "shift": int}`.
    static func parse(_ value: JSONValue, path: String, diagnostics: Diagnostics) -> TTAOptions? {
        if case let .bool(on) = value { return on ? TTAOptions() : nil }
        guard case .object = value else {
            diagnostics.error(at: path, "expected true, false or {\"flip\": true, \"shift\": 2}")
            return nil
        }
        var c = ConfigReader(value, path: path, diagnostics: diagnostics)
        let options = TTAOptions(flip: c.bool("flip", default: true), shift: c.int("shift", default: 2, in: 0...64))
        c.finish()
        if !options.flip && options.shift == 0 {
            diagnostics.error(at: path, "\"flip\": false with \"shift\": 0 leaves no augmented copy; remove \"tta\" instead")
        }
        return options
    }

    /// The views, as (flip, row offset, column offset); the first is the identity.
    public var views: [(flip: Bool, dy: Int, dx: Int)] {
        var out: [(Bool, Int, Int)] = [(false, 0, 0)]
        if flip { out.append((true, 0, 0)) }
        if shift > 0 {
            for (dy, dx) in [(-shift, -shift), (-shift, shift), (shift, -shift), (shift, shift)] { out.append((false, dy, dx)) }
        }
        return out
    }

    /// Writes view `view` of `input` (`[n, C, H, W]`) into `output` (same shape).
    /// `output[y][x] = input[m(y + dy)][m'(x' + dx)]` where `x' = W − 1 − x` when flipped and `m`
    /// mirrors an index outside the image back into it (−1 → 0, H → H − 1).
    public static func write(view: (flip: Bool, dy: Int, dx: Int), of input: Tensor, into output: Tensor) {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let src = input.data, dst = output.data
        // `shift` ≤ 64 may exceed the image, so mirror repeatedly (period 2 × size).
        func mirror(_ i: Int, _ size: Int) -> Int {
            let period = 2 * size
            let r = ((i % period) + period) % period
            return r < size ? r : period - 1 - r
        }
        let rows = (0..<h).map { mirror($0 + view.dy, h) }
        let cols = (0..<w).map { mirror((view.flip ? w - 1 - $0 : $0) + view.dx, w) }
        for plane in 0..<(n * c) {
            let s = src + plane * h * w, d = dst + plane * h * w
            for y in 0..<h {
                let sr = s + rows[y] * w, dr = d + y * w
                for x in 0..<w { dr[x] = sr[cols[x]] }
            }
        }
    }
}

/// Log loss and accuracy of one way of scoring the test set.
public struct ProbabilityScore: Sendable, Equatable {
    /// Mean of −ln p(label) (p floored at 1e-15, as scikit-learn's `log_loss` clips).
    public var logLoss: Double
    public var accuracy: Double
}

/// What `strata eval --tta` reports: the plain evaluation and the TTA one on the same examples.
public struct TTAReport: Sendable {
    public var plain: ProbabilityScore
    public var tta: ProbabilityScore
    /// Views averaged per example (the identity included).
    public var views: Int
    public var examples: Int
    public var options: TTAOptions
}

public enum TestTimeAugmentation {
    /// Scores every batch of `loader` (evaluation mode) under `model` as it is and averaged over
    /// the views of `options`. The model's output per example must be one score per class
    /// (logits; a softmax turns them into probabilities).
    public static func evaluate(model: Model, loader: BatchLoader, options: TTAOptions) throws -> TTAReport {
        guard model.exampleShape.count == 3 else {
            throw CoreError.badInput("tta: the model input per example is \(model.exampleShape); test-time augmentation needs images [C, H, W]")
        }
        guard model.outputExampleShape.count == 1, let classes = model.outputExampleShape.first, classes >= 1 else {
            throw CoreError.badInput("tta: the model output per example is \(model.outputExampleShape); test-time augmentation needs one score per class")
        }
        let views = options.views
        let input = loader.makeInputTensor()          // [B, C, H, W]
        let augmented = loader.makeInputTensor()      // [B, C, H, W], one view
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: loader.batchSize)
        defer { labels.deallocate() }
        var plainProbabilities = [Double](repeating: 0, count: loader.batchSize * classes)  // [B, K]
        var sum = [Double](repeating: 0, count: loader.batchSize * classes)                 // [B, K]
        var plain = (loss: 0.0, correct: 0), averaged = (loss: 0.0, correct: 0)
        var seen = 0
        loader.startEpoch(0)
        while let n = loader.nextBatch(into: input, labels: labels) {
            let x = input.batchPrefix(n), xv = augmented.batchPrefix(n)
            for i in 0..<(n * classes) { sum[i] = 0 }
            for (v, view) in views.enumerated() {
                if v == 0 { xv.copy(from: x) } else { TTAOptions.write(view: view, of: x, into: xv) }
                let out = try model.forward(xv, training: false)  // [n, K]
                for e in 0..<n {
                    let row = out.data + e * classes
                    var top = -Double.infinity
                    for k in 0..<classes { top = max(top, Double(row[k])) }
                    var total = 0.0
                    for k in 0..<classes { total += exp(Double(row[k]) - top) }
                    for k in 0..<classes {
                        let p = exp(Double(row[k]) - top) / total
                        sum[e * classes + k] += p
                        if v == 0 { plainProbabilities[e * classes + k] = p }
                    }
                }
            }
            for e in 0..<n {
                let label = Int(labels[e])
                guard label >= 0 && label < classes else {
                    throw CoreError.badInput("tta: example \(seen + e) has label \(label), outside the model's \(classes) classes")
                }
                let p = Array(plainProbabilities[(e * classes)..<((e + 1) * classes)])
                let a = sum[(e * classes)..<((e + 1) * classes)].map { $0 / Double(views.count) }
                plain.loss -= log(max(p[label], 1e-15))
                averaged.loss -= log(max(a[label], 1e-15))
                if argmax(p) == label { plain.correct += 1 }
                if argmax(a) == label { averaged.correct += 1 }
            }
            seen += n
        }
        let count = Double(max(seen, 1))
        return TTAReport(plain: ProbabilityScore(logLoss: plain.loss / count, accuracy: Double(plain.correct) / count),
                         tta: ProbabilityScore(logLoss: averaged.loss / count, accuracy: Double(averaged.correct) / count),
                         views: views.count, examples: seen, options: options)
    }

    /// The first index of the largest value.
    static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}

extension Experiment {
    /// Plain and test-time-augmented log loss and accuracy of the model as it is on the recipe's
    /// test set (``TestTimeAugmentation``).
    public func evaluateTTA(options: TTAOptions, normalization: NormalizationRecord? = nil) throws -> TTAReport {
        let loader = try testLoader(normalization: normalization)
        return try TestTimeAugmentation.evaluate(model: model, loader: loader, options: options)
    }
}
