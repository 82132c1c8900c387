import Foundation

/// `exponential`: `η = lr₀·γ^e` with `e` the epochs done, fractional (`(epoch − 1) + batch/B`):
/// `torch.optim.lr_scheduler.ExponentialLR`'s curve, decayed batch by batch rather than in steps.
public struct ExponentialSchedule: LearningRateSchedule {
    public let kind = "exponential"
    public let gamma: Double

    public init(gamma: Double) { self.gamma = gamma }

    public func rate(at p: TrainingPosition, base: Double) -> Double {
        base * pow(gamma, p.epochsDone)
    }
}
