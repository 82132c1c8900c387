/// Training events, in the order a run sees them (values match `STRATA_EVENT_*`).
public enum TrainingEvent: Int32, Sendable {
    case trainBegin = 0, epochBegin, batchBegin, batchEnd, epochEnd, trainEnd
}

/// What a callback may read, and partly write, at an event: the Swift face of
/// `StrataCallbackContext`. Writable: `learningRate` and `momentum` (schedules) and `stop`.
public struct CallbackContext {
    /// The current epoch, from 1 (the ABI's `epoch` index + 1).
    public var epoch = 0
    public var epochs = 0
    /// Batch index within the epoch (0-based).
    public var batch = 0
    public var batchesPerEpoch = 0
    /// Optimizer steps taken since training began.
    public var globalStep = 0
    /// Examples in the current batch.
    public var batchSize = 0
    /// Base learning rate for the next step; a callback may change it.
    public var learningRate = 0.0
    /// Momentum for the next step (SGD's momentum, Adam's β₁) when a schedule sets it (one-cycle);
    /// nil leaves the optimizer's own.
    public var momentum: Double? = nil
    /// Set to true to stop after the current batch.
    public var stop = false
    /// Loss of the last batch (at batchEnd).
    public var batchLoss = Double.nan
    /// Running means over the epoch so far, and the last evaluation (NaN until known).
    public var trainLoss = Double.nan
    public var trainAccuracy = Double.nan
    public var testLoss = Double.nan
    public var testAccuracy = Double.nan
    /// With gradient clipping: the mean and the largest global gradient norm over the epoch's
    /// batches so far (NaN without clipping).
    public var gradientNorm = Double.nan
    public var gradientNormMax = Double.nan
    /// Training examples per second of the epoch so far (evaluation excluded).
    public var examplesPerSecond = Double.nan
    /// Seconds spent training (not evaluating) in the current epoch.
    public var epochTrainSeconds = 0.0
    public var epochEvalSeconds = 0.0
    /// Run directory, or nil when the run writes nothing.
    public var runDirectory: String?
    /// The trainable parameters being fitted, in model order (empty when the run does not
    /// expose them); at batchEnd their gradients hold the batch's gradients.
    public var parameters: [(name: String, parameter: Parameter)] = []
    /// Figures callbacks add to the epoch's record at epochEnd (`activation_stats`'s
    /// `act/<layer>/mean`), written to `metrics.jsonl` after the standard fields; emptied at
    /// every epochBegin.
    public var metrics: [(name: String, value: Double)] = []
    public init() {}
}

/// When a callback sees each event relative to the others. A run calls its callbacks in this
/// order, and in recipe order within one (docs/recipes.md, "Callback order"):
/// - `schedule`: learning-rate schedules, so the rate they set is the one the other callbacks
///   report and the step uses;
/// - `standard`: everything else (progress, early stopping, plugin callbacks), which may read the
///   figures and ask the run to stop;
/// - `writer`: the run directory's writers (metrics log, plots, checkpoints), last, so they record
///   the epoch as the others left it.
public enum CallbackOrder: Int, Comparable, Sendable {
    case schedule = 0, standard = 1, writer = 2
    public static func < (a: CallbackOrder, b: CallbackOrder) -> Bool { a.rawValue < b.rawValue }
}

/// A training callback: the Swift face of `StrataCallbackOps`.
public protocol Callback: AnyObject {
    var kind: String { get }
    /// Where the callback runs among the others (default `standard`).
    var order: CallbackOrder { get }
    func onEvent(_ event: TrainingEvent, context: inout CallbackContext) throws
}

extension Callback {
    public var order: CallbackOrder { .standard }
}
