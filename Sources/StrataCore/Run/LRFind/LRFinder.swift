import Foundation

/// The learning-rate range test (Smith 2015; fast.ai's `learn.lr_find()`): train on successive
/// mini-batches while the rate grows exponentially from `start` to `end`, record the loss of each
/// batch, and stop once the smoothed loss diverges. The rate where the smoothed loss falls
/// fastest is the suggestion.
///
/// It leaves no trace: the model's parameters, buffers (BatchNorm statistics), gradients and
/// random streams are restored afterwards (``TrainingSnapshot``), the sweep steps a fresh
/// optimizer made from the recipe (the experiment's own optimizer, its state and its rate are
/// never touched), and it draws batches from a loader of its own. A run after it is bit for bit
/// the run without it.
public struct LRFinder {
    public struct Options: Sendable {
        /// First and last rate of the sweep.
        public var start = 1e-7
        public var end = 10.0
        /// Mini-batches in the sweep (at most; it stops early on divergence).
        public var steps = 100
        /// Exponential smoothing factor of the loss (fast.ai's 0.98), bias-corrected.
        public var smoothing = 0.98
        /// The sweep stops when the smoothed loss exceeds this multiple of its minimum (fast.ai: 4).
        public var divergence = 4.0

        public init(start: Double = 1e-7, end: Double = 10, steps: Int = 100) {
            self.start = start
            self.end = end
            self.steps = steps
        }

        /// Refuses rates that are not positive or not increasing, and fewer than 2 steps;
        /// `names` gives the option names used in the messages.
        public func validate(names: (start: String, end: String, steps: String) = ("--start", "--end", "--steps")) throws {
            guard start.isFinite, start > 0 else { throw CoreError.badInput("\(names.start) \(start): the first rate must be a positive number") }
            guard end.isFinite, end > start else { throw CoreError.badInput("\(names.end) \(end): the last rate must be a finite number above \(names.start) (\(start))") }
            guard (2...100_000).contains(steps) else { throw CoreError.badInput("\(names.steps) \(steps): expected 2 to 100000 mini-batches") }
        }
    }

    /// One mini-batch of the sweep.
    public struct Point: Sendable {
        public let step: Int
        public let learningRate: Double
        public let loss: Double
        public let smoothedLoss: Double
        /// With `gradient_clip`: the global gradient norm before clipping; NaN without.
        public var gradientNorm: Double = .nan
    }

    public struct Result: Sendable {
        public let points: [Point]
        /// The suggested rate and the rule that chose it.
        public let suggestion: Double
        public let rule: String
        /// Why the sweep ended before `steps` batches (nil when it ran them all).
        public let stopReason: String?
    }

    public let options: Options
    public init(options: Options) { self.options = options }

    /// Loads the recipe's training split and its transforms (`"mean": "auto"` resolved from it) and
    /// sweeps. A recipe with a plugin `scheme` is refused: the sweep takes the steps of end-to-end
    /// training, which such a run does not take.
    public func run(_ experiment: Experiment) throws -> Result {
        try options.validate()
        if experiment.scheme is PluginSchemeInstance {
            throw CoreError.badInput(.jsonPath("$.scheme"), "lr-find sweeps the steps of end-to-end training; the recipe's scheme \"\(experiment.scheme.kind)\" takes its own (remove \"scheme\" for the sweep, e.g. --set 'scheme={\"kind\": \"fit\"}')")
        }
        let train = try experiment.loadData().train
        let record = try experiment.recipe.data.automaticNormalization(train: train, recorded: nil, runDirectory: nil)
        return try run(experiment, train: train, transforms: experiment.recipe.data.pipelines(statistics: record?.statistics))
    }

    /// Sweeps `experiment`'s model over `train` (its recipe's batch size, normalisation,
    /// augmentation, transforms and seed) and restores everything it changed before returning or
    /// throwing. Each batch is one step of the training loop (`Trainer.step`, the step of
    /// `strata run`): the recipe's parameter groups and weight decay through the experiment's
    /// slots, and its `gradient_clip`.
    public func run(_ experiment: Experiment, train: ImageDataset,
                    transforms: (train: TransformPipeline, eval: TransformPipeline)? = nil) throws -> Result {
        try options.validate()
        let r = experiment.recipe, model = experiment.model
        let snapshot = TrainingSnapshot(model)
        defer { snapshot.restore() }
        let optimizer = try r.optimizer.make()
        let loader = try BatchLoader(dataset: train, batchSize: r.batchSize, mode: .training(seed: r.seed),
                                     normalization: r.data.normalization, augmentation: r.data.augmentation,
                                     pipeline: transforms?.train)
        // The fit loop's step, with an optimizer and a loader of the sweep's own.
        let trainer = Trainer(model: model, loss: experiment.loss, optimizer: optimizer, slots: experiment.slots,
                              train: loader, test: nil, epochs: 1, clipping: r.gradientClip)

        var points: [Point] = []
        var average = 0.0, best = Double.infinity, epoch = 0
        var stopReason: String? = nil
        loader.startEpoch(epoch)
        for step in 0..<options.steps {
            var x = trainer.nextTrainingBatch()
            if x == nil {
                epoch += 1
                loader.startEpoch(epoch)
                x = trainer.nextTrainingBatch()
            }
            guard let x else { stopReason = "the training split is empty"; break }
            let rate = Self.rate(step: step, options: options)
            optimizer.learningRate = rate
            guard let result = try trainer.step(x, checkLoss: { $0.isFinite }) else {
                stopReason = "the loss became non-finite at rate \(rate)"
                break
            }
            let loss = result.value.loss
            average = options.smoothing * average + (1 - options.smoothing) * loss
            let smoothed = average / (1 - pow(options.smoothing, Double(step + 1)))
            points.append(Point(step: step, learningRate: rate, loss: loss, smoothedLoss: smoothed,
                                gradientNorm: result.gradientNorm ?? .nan))
            best = min(best, smoothed)
            if smoothed > options.divergence * best {
                stopReason = "the smoothed loss \(String(format: "%.4g", smoothed)) exceeded \(options.divergence)× its minimum \(String(format: "%.4g", best)) at rate \(String(format: "%.3g", rate))"
                break
            }
        }
        let (suggestion, rule) = Self.suggest(points)
        return Result(points: points, suggestion: suggestion, rule: rule, stopReason: stopReason)
    }

    /// The rate of sweep step `step`: `start·(end/start)^(step/(steps−1))`.
    public static func rate(step: Int, options: Options) -> Double {
        options.start * pow(options.end / options.start, Double(step) / Double(options.steps - 1))
    }

    /// The suggested rate: where the smoothed loss falls fastest against log(rate) (fast.ai's
    /// "steepest" rule), looking only before the minimum and skipping the noisy first tenth; with
    /// too few points for a slope, a tenth of the rate at the minimum.
    static func suggest(_ points: [Point]) -> (Double, String) {
        guard let minimum = points.indices.min(by: { points[$0].smoothedLoss < points[$1].smoothedLoss }) else {
            return (.nan, "no points")
        }
        let first = points.count / 10
        var steepest: (index: Int, slope: Double)? = nil
        if minimum - first >= 2 {
            for i in (first + 1)...minimum {
                let slope = (points[i].smoothedLoss - points[i - 1].smoothedLoss)
                    / (log(points[i].learningRate) - log(points[i - 1].learningRate))
                if slope < (steepest?.slope ?? 0) { steepest = (i, slope) }
            }
        }
        if let steepest {
            return (points[steepest.index].learningRate,
                    "steepest descent of the smoothed loss against log(rate), before its minimum at \(String(format: "%.3g", points[minimum].learningRate))")
        }
        return (points[minimum].learningRate / 10, "a tenth of the rate at the smoothed loss's minimum (too few points before it for a slope)")
    }
}
