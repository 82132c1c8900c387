import Foundation

/// Applies a learning-rate schedule (Training/Schedules/) before every batch, from the
/// optimizer's base rate `lr₀`, and the schedule's momentum when it has one (one-cycle).
///
/// The schedule is saved in every checkpoint (`strata.lr_schedule` in the model file's metadata:
/// its kind and `lr₀`), and a run that resumes from a checkpoint takes `lr₀` from there, so it
/// continues the same curve even when the recipe's rate was changed. A schedule with cycles
/// (SGDR) saves a snapshot `checkpoints/cycle-<n>.safetensors` at the end of each cycle
/// (fast.ai's `cycle_save_name`) when the run has a directory.
public final class LRScheduleCallback: Callback {
    public let kind = "lr_schedule"
    public let order = CallbackOrder.schedule
    public let schedule: any LearningRateSchedule
    /// Whether to save a snapshot at each cycle end (`snapshots`, default true).
    public let snapshots: Bool
    private let checkpointer: Checkpointer?
    private let checkpoints: URL?
    public private(set) var base = Double.nan

    /// The metadata key holding the schedule's state in a checkpoint.
    static let metadataKey = "strata.lr_schedule"

    public init(_ schedule: any LearningRateSchedule, snapshots: Bool = true, checkpointer: Checkpointer? = nil,
                checkpoints: URL? = nil) {
        self.schedule = schedule
        self.snapshots = snapshots
        self.checkpointer = checkpointer
        self.checkpoints = checkpoints
        checkpointer?.stateProviders.append((Self.metadataKey, { [weak self] in self?.savedState ?? "" }))
    }

    /// The state a checkpoint records: `{"kind": …, "base_lr": …}`.
    var savedState: String {
        JSONValue.object(JSONObject([("kind", .string(schedule.kind)), ("base_lr", .number(base))])).serialized(pretty: false)
    }

    public func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        switch event {
        case .trainBegin:
            base = c.learningRate
            if let text = checkpointer?.resumedMetadata[Self.metadataKey], let saved = try? JSONParser.parse(text),
               saved["kind"]?.stringValue == schedule.kind, let rate = saved["base_lr"]?.numberValue, rate.isFinite, rate > 0 {
                base = rate
            }
        case .batchBegin:
            let p = position(c)
            c.learningRate = schedule.rate(at: p, base: base)
            if let m = schedule.momentum(at: p) { c.momentum = m }
        case .epochEnd:
            guard snapshots, let checkpointer, let checkpoints else { return }
            let ends = schedule.cycleEnds(epochs: c.epochs)
            guard let cycle = ends.firstIndex(of: c.epoch) else { return }
            try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
            try checkpointer.save(to: checkpoints.appendingPathComponent("cycle-\(cycle + 1).safetensors"), epoch: c.epoch)
        default:
            return
        }
    }

    /// The rate for a (1-based) epoch and a (0-based) batch within it, from the base rate of the
    /// last `trainBegin`.
    public func rate(epoch: Int, batch: Int, batchesPerEpoch: Int, epochs: Int) -> Double {
        schedule.rate(at: TrainingPosition(epoch: epoch, batch: batch, batchesPerEpoch: batchesPerEpoch, epochs: epochs), base: base)
    }

    private func position(_ c: CallbackContext) -> TrainingPosition {
        TrainingPosition(epoch: c.epoch, batch: c.batch, batchesPerEpoch: c.batchesPerEpoch, epochs: c.epochs)
    }
}
