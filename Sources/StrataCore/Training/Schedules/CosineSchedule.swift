import Foundation

/// `cosine`: `η = η_min + (lr₀ − η_min)·(1 + cos(π·f))/2` with `f` the fraction of training done
/// (`torch.optim.lr_scheduler.CosineAnnealingLR` over the whole run, stepped per batch).
public struct CosineSchedule: LearningRateSchedule {
    public let kind = "cosine"
    public let etaMin: Double

    public init(etaMin: Double) { self.etaMin = etaMin }

    public func rate(at p: TrainingPosition, base: Double) -> Double {
        etaMin + (base - etaMin) * (1 + cos(Double.pi * p.fraction)) / 2
    }
}
