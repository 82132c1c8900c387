import CStrataKernels
import Foundation

/// End-to-end training of the whole model ("fit", the default scheme): every epoch, every batch
/// forward, loss, backward and optimizer step, then evaluation on the test split (`Trainer`).
public final class FitScheme: TrainingScheme {
    public let kind = "fit"
    public let defaultCallbackKinds = ["progress", "metrics_log", "plot", "checkpoint"]

    public init() {}

    public func train(_ run: RunContext) throws -> SchemeOutcome {
        let e = run.experiment, r = e.recipe
        let pipelines = run.transforms
        let trainLoader = try BatchLoader(dataset: run.train, batchSize: r.batchSize, mode: .training(seed: r.seed),
                                          normalization: r.data.normalization, augmentation: r.data.augmentation,
                                          pipeline: pipelines?.train)
        let testLoader = try BatchLoader(dataset: run.test, batchSize: r.batchSize, mode: .evaluation,
                                         normalization: r.data.normalization, pipeline: pipelines?.eval)
        let trainer = Trainer(model: e.model, loss: e.loss, optimizer: e.optimizer, slots: e.slots, train: trainLoader,
                              test: testLoader, epochs: r.epochs, callbacks: run.callbacks, runDirectory: run.directory?.path,
                              clipping: r.gradientClip)
        let records = try trainer.fit(firstEpoch: run.firstEpoch)
        let seconds = records.reduce(0) { $0 + $1.trainSeconds }
        let examples = Double(run.train.count * records.count)
        return SchemeOutcome(records: records, trainSeconds: seconds, examplesPerSecond: seconds > 0 ? examples / seconds : .nan)
    }
}
