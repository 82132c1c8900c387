import Foundation

/// `step`: `η = lr₀·γ^⌊(epoch − 1)/step_size⌋` (`torch.optim.lr_scheduler.StepLR` stepped per epoch).
public struct StepSchedule: LearningRateSchedule {
    public let kind = "step"
    public let stepSize: Int
    public let gamma: Double

    public init(stepSize: Int, gamma: Double) {
        self.stepSize = max(stepSize, 1)
        self.gamma = gamma
    }

    public func rate(at p: TrainingPosition, base: Double) -> Double {
        base * pow(gamma, Double((p.epoch - 1) / stepSize))
    }
}
