/// The recipe's `data` object: which source, where, limits, class selection and transforms
/// (docs/recipes.md, "Data").
extension Recipe {
    public struct DataOptions {
        public var dataset: String
        public var path: String
        public var trainLimit: Int?
        public var testLimit: Int?
        public var normalization: BatchLoader.Normalization?
        public var augmentation: BatchLoader.Augmentation
        /// Classes to keep, relabelled 0, 1, … in this order (nil keeps all).
        public var classes: [Int]?
        /// Channels of decoded images (image-folder): 1 grey, 3 RGB.
        public var channels = 3
        /// Size images are resized to when loaded (image-folder), `nil` to keep the first image's.
        public var size: (height: Int, width: Int)? = nil
        /// Fraction of an image folder without train/valid sub-folders drawn as the test split.
        public var validFraction: Double? = nil
        /// Whether undecodable images are skipped (and counted) rather than refused.
        public var skipBad = false
        /// Megabytes of decoded images (image-folder) kept in memory before they go to a cache file.
        public var cacheMemoryMB = 4096
        /// Transforms of training batches (`train_transforms`), replacing `augment`/`normalize`.
        public var trainTransforms: TransformPipeline? = nil
        /// Transforms of evaluation and prediction batches (`eval_transforms`).
        public var evalTransforms: TransformPipeline? = nil
        /// The source, when reading the recipe already made it (an image folder is scanned then).
        var scannedSource: (any DataSource)? = nil

        /// The data source `dataset` names: example shape and class names.
        public var source: any DataSource { scannedSource ?? DataSources.source(for: self) }
        /// Number of classes the model must score.
        public var classCount: Int { classes?.count ?? source.classCount }
        /// Shape of one model input `[C, H, W]`: the stored images after the transforms.
        public var inputShape: [Int] { trainTransforms?.outputShape(source.exampleShape) ?? source.exampleShape }
    }

    static func parseData(_ value: JSONValue?, seed: UInt64, diagnostics: Diagnostics) -> DataOptions {
        var d = DataOptions(dataset: "fashion-mnist", path: FashionMNIST.defaultDirectory, trainLimit: nil, testLimit: nil,
                            normalization: nil, augmentation: .none)
        guard let value else { return d }
        var c = ConfigReader(value, path: "$.data", diagnostics: diagnostics)
        d.dataset = c.choice("dataset", Recipe.datasets, default: "fashion-mnist")
        let needsPath = d.dataset != "fashion-mnist"
        if let path = c.string("path") {
            d.path = path
        } else if needsPath {
            diagnostics.error(at: "$.data.path", "is required for \"\(d.dataset)\" (the folder holding the data)")
        }
        d.trainLimit = c.optionalInt("train_limit", in: 1...100_000_000)
        d.testLimit = c.optionalInt("test_limit", in: 1...100_000_000)
        if d.dataset == "image-folder" {
            if let v = c.value("channels") {
                if case let .number(x) = v, x == 1 || x == 3 { d.channels = Int(x) } else {
                    diagnostics.error(at: "$.data.channels", "expected 1 (grey) or 3 (RGB)")
                }
            }
            if c.has("size") { d.size = c.pair("size", default: nil, in: 1...4096).map { (height: $0.0, width: $0.1) } }
            if c.has("valid_fraction") { d.validFraction = c.double("valid_fraction", default: 0.2, in: 0.001...0.999) }
            d.skipBad = c.bool("skip_bad", default: false)
            if let v = c.value("cache") {
                var cc = ConfigReader(v, path: "$.data.cache", diagnostics: diagnostics)
                d.cacheMemoryMB = cc.int("memory_mb", default: 4096, in: 0...16_777_216)
                cc.finish()
            }
        } else {
            for key in ["channels", "size", "valid_fraction", "skip_bad", "cache"] where c.value(key) != nil {
                diagnostics.error(at: "$.data.\(key)", "applies to \"image-folder\" only (dataset is \"\(d.dataset)\")")
            }
        }
        if let value = c.value("classes") {
            d.scannedSource = scan(d, seed: seed, diagnostics: diagnostics)
            let known = d.source.classCount
            if case let .array(items) = value, items.count >= 2, items.count <= known,
               case let ints = items.compactMap({ item -> Int? in
                   if case let .number(x) = item, x.rounded() == x, x >= 0, x < Double(known) { return Int(x) }
                   return nil
               }), ints.count == items.count, Set(ints).count == ints.count {
                d.classes = ints
            } else {
                diagnostics.error(at: "$.data.classes", "expected 2 to \(known) distinct class indices between 0 and \(known - 1), e.g. [0, 6]")
            }
        }
        if let n = c.value("normalize") {
            var nc = ConfigReader(n, path: "$.data.normalize", diagnostics: diagnostics)
            let mean = floats(nc.value("mean"), path: "$.data.normalize.mean", diagnostics: diagnostics, positive: false)
            let std = floats(nc.value("std"), path: "$.data.normalize.std", diagnostics: diagnostics, positive: true)
            nc.finish()
            if let mean, let std {
                if mean.count != std.count {
                    diagnostics.error(at: "$.data.normalize", "mean has \(mean.count) values and std \(std.count); give one per channel")
                } else {
                    d.normalization = .init(mean: mean, std: std)
                }
            }
        }
        if let a = c.value("augment") {
            var ac = ConfigReader(a, path: "$.data.augment", diagnostics: diagnostics)
            d.augmentation = .init(pad: ac.int("pad", default: 0, in: 0...64), horizontalFlip: ac.bool("flip", default: false))
            ac.finish()
        }
        let train = c.value("train_transforms").map { transforms($0, path: "$.data.train_transforms", diagnostics: diagnostics) }
        let eval = c.value("eval_transforms").map { transforms($0, path: "$.data.eval_transforms", diagnostics: diagnostics) }
        c.finish()
        if train != nil || eval != nil {
            for key in ["normalize", "augment"] where value[key] != nil {
                diagnostics.error(at: "$.data.\(key)", "cannot be combined with train_transforms/eval_transforms (put a normalize or pad_crop step in the lists)")
            }
            d.trainTransforms = train ?? TransformPipeline()
            d.evalTransforms = eval ?? TransformPipeline(normalization: d.trainTransforms!.normalization)
        }
        if d.scannedSource == nil { d.scannedSource = scan(d, seed: seed, diagnostics: diagnostics) }
        if let t = d.trainTransforms, let e = d.evalTransforms {
            let stored = d.source.exampleShape
            let (a, b) = (t.outputShape(stored), e.outputShape(stored))
            if a != b {
                diagnostics.error(at: "$.data.eval_transforms", "makes \(shapeText(b)) inputs from the stored \(shapeText(stored)) images but train_transforms make \(shapeText(a)); both must give the model one shape")
            }
            for (pipeline, key) in [(t, "train_transforms"), (e, "eval_transforms")] {
                if case let .fixed(n) = pipeline.normalization, n.mean.count != stored[0] {
                    diagnostics.error(at: "$.data.\(key)", "normalize gives \(n.mean.count) means for \(stored[0])-channel images")
                }
            }
        }
        return d
    }

    private static func shapeText(_ s: [Int]) -> String { s.map(String.init).joined(separator: "×") }

    /// The image folder or CIFAR folder the options name, scanned now (image-folder), so the
    /// recipe's errors include a missing or malformed folder; `nil` for other sources.
    private static func scan(_ d: DataOptions, seed: UInt64, diagnostics: Diagnostics) -> (any DataSource)? {
        guard d.dataset == "image-folder", !d.path.isEmpty, d.path != FashionMNIST.defaultDirectory else { return nil }
        do {
            return try ImageFolderSource(root: d.path, channels: d.channels, size: d.size, validFraction: d.validFraction,
                                         seed: seed, skipBad: d.skipBad)
        } catch {
            diagnostics.error(at: "$.data.path", "\(error)")
            return EmptySource(exampleShape: [d.channels, d.size?.height ?? 1, d.size?.width ?? 1])
        }
    }

    /// The transform steps and normalisation of a transform list.
    static func transforms(_ value: JSONValue, path: String, diagnostics: Diagnostics) -> TransformPipeline {
        var pipeline = TransformPipeline()
        guard case let .array(items) = value, items.count <= 32 else {
            diagnostics.error(at: path, "expected an array of up to 32 transforms, e.g. [{\"kind\": \"pad_crop\", \"pad\": 4}, {\"kind\": \"flip\"}]")
            return pipeline
        }
        let kinds = ["resize", "center_crop", "random_resized_crop", "pad_crop", "flip", "normalize"]
        for (i, item) in items.enumerated() {
            let p = "\(path)[\(i)]"
            var t = ConfigReader(item, path: p, diagnostics: diagnostics)
            guard let kind = t.requiredString("kind", choices: kinds) else { t.finish(); continue }
            if pipeline.normalization != .none {
                diagnostics.error(at: p, "comes after normalize, which must be the last step")
            }
            switch kind {
            case "resize":
                if let s = t.pair("size", default: nil, in: 1...4096) { pipeline.transforms.append(.resize(height: s.0, width: s.1)) }
            case "center_crop":
                if let s = t.pair("size", default: nil, in: 1...4096) { pipeline.transforms.append(.centerCrop(height: s.0, width: s.1)) }
            case "random_resized_crop":
                let s = t.pair("size", default: nil, in: 1...4096)
                let scale = range(t.value("scale"), default: 0.08...1, limits: 0.0001...1, path: p + ".scale", diagnostics: diagnostics)
                let ratio = range(t.value("ratio"), default: 0.75...(4.0 / 3), limits: 0.01...100, path: p + ".ratio", diagnostics: diagnostics)
                if let s { pipeline.transforms.append(.randomResizedCrop(height: s.0, width: s.1, scale: scale, ratio: ratio)) }
            case "pad_crop":
                pipeline.transforms.append(.padCrop(pad: t.int("pad", default: 4, in: 0...1024)))
            case "flip":
                pipeline.transforms.append(.horizontalFlip(probability: t.double("p", default: 0.5, in: 0...1)))
            default: // normalize
                if case .string("auto")? = item["mean"] {
                    t.accept("mean")
                    if t.has("std") { diagnostics.error(at: p + ".std", "must be left out with \"mean\": \"auto\" (both are computed)") }
                    pipeline.normalization = .auto
                } else {
                    let mean = floats(t.value("mean"), path: p + ".mean", diagnostics: diagnostics, positive: false)
                    let std = floats(t.value("std"), path: p + ".std", diagnostics: diagnostics, positive: true)
                    if let mean, let std {
                        if mean.count == std.count { pipeline.normalization = .fixed(.init(mean: mean, std: std)) } else {
                            diagnostics.error(at: p, "mean has \(mean.count) values and std \(std.count); give one per channel")
                        }
                    }
                }
            }
            t.finish(allowed: ["std"])
        }
        return pipeline
    }

    /// `[low, high]` within `limits`, low ≤ high.
    private static func range(_ value: JSONValue?, default def: ClosedRange<Double>, limits: ClosedRange<Double>, path: String,
                              diagnostics: Diagnostics) -> ClosedRange<Double> {
        guard let value else { return def }
        guard case let .array(items) = value, items.count == 2, case let .number(a) = items[0], case let .number(b) = items[1],
              limits.contains(a), limits.contains(b), a <= b else {
            diagnostics.error(at: path, "expected [low, high] with \(limits.lowerBound) ≤ low ≤ high ≤ \(limits.upperBound)")
            return def
        }
        return a...b
    }
}

/// A stand-in source for a folder that could not be scanned (its error is already reported).
struct EmptySource: DataSource {
    let exampleShape: [Int]
    var name: String { "image-folder" }
    var classNames: [String] { ["0", "1"] }
    func load(split: ImageDataset.Split, limit: Int?) throws -> ImageDataset {
        throw CoreError.badInput("the image folder could not be read")
    }
}
