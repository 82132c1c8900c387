import Foundation

/// `warmup`: linear warm-up over the first `warmup_epochs` (fractional allowed), then the base
/// rate: `η = lr₀·(s + (1 − s)·min(1, e/w))` with `e` the epochs done and `s` = `start_factor`
/// (`torch.optim.lr_scheduler.LinearLR` with `end_factor` 1, stepped per batch).
public struct WarmupSchedule: LearningRateSchedule {
    public let kind = "warmup"
    public let warmupEpochs: Double
    public let startFactor: Double

    public init(warmupEpochs: Double, startFactor: Double) {
        self.warmupEpochs = warmupEpochs
        self.startFactor = startFactor
    }

    public func rate(at p: TrainingPosition, base: Double) -> Double {
        base * (startFactor + (1 - startFactor) * min(1, p.epochsDone / warmupEpochs))
    }
}
