import Foundation

/// A training procedure: what a recipe's `"scheme"` names. The run orchestrator
/// (`Experiment.run`) builds the components, loads the data, makes the callbacks and owns the
/// run directory; a scheme trains with them and reports what it did. End-to-end fitting
/// (`FitScheme`) and plugin schemes (`PluginSchemeInstance`) are the two implementations;
/// staged runs, the LR finder and data-parallel training wrap or implement the same protocol.
public protocol TrainingScheme: AnyObject {
    /// The recipe's scheme kind (`"fit"`, or a plugin scheme's name).
    var kind: String { get }
    /// Callback kinds made when the recipe lists none.
    var defaultCallbackKinds: [String] { get }
    /// Trains; throws on failure.
    func train(_ run: RunContext) throws -> SchemeOutcome
}

/// What a scheme is given: the built experiment, the data, the callbacks in their run order,
/// the run directory (nil when the run writes nothing), the first epoch (after a resume) and the
/// recipe's transform pipelines with automatic normalisation resolved.
public struct RunContext {
    public let experiment: Experiment
    public let train: ImageDataset
    public let test: ImageDataset
    public let callbacks: [any Callback]
    public let directory: RunDirectory?
    public let firstEpoch: Int
    /// The training and evaluation transforms (`nil` when the recipe lists none).
    public var transforms: (train: TransformPipeline, eval: TransformPipeline)? = nil
}

/// What a scheme reports: one record per epoch (or round), the training time, and fields and
/// plots of its own for `summary.json` and `plots/`.
public struct SchemeOutcome {
    public var records: [EpochRecord]
    public var trainSeconds: Double
    public var examplesPerSecond: Double
    /// The final test accuracy when the last record does not hold it.
    public var testAccuracy: Double?
    /// Extra `summary.json` fields.
    public var summaryFields: [(String, JSONValue)] = []

    public init(records: [EpochRecord], trainSeconds: Double, examplesPerSecond: Double, testAccuracy: Double? = nil,
                summaryFields: [(String, JSONValue)] = []) {
        self.records = records
        self.trainSeconds = trainSeconds
        self.examplesPerSecond = examplesPerSecond
        self.testAccuracy = testAccuracy
        self.summaryFields = summaryFields
    }
}

/// A recipe's training scheme as read: its kind and how to create it (a plugin scheme's
/// `create`, which validates its options, runs when the experiment is built).
public struct SchemeSpec {
    public let kind: String
    public let make: () throws -> any TrainingScheme
}
