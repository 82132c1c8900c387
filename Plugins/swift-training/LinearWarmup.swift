import StrataKit

/// Linear learning-rate warm-up: before step s (counted from 0) the rate is
/// base * (start_factor + (1 - start_factor) * min(s, steps) / steps), where base is the rate
/// at TRAIN_BEGIN; from step `steps` on it is left alone (a schedule after it takes over).
final class LinearWarmup: KitCallback {
    let steps: Int
    let startFactor: Double
    private var base = 0.0

    init(config: KitConfig) throws {
        steps = try config.int("steps", default: 100)
        startFactor = try config.double("start_factor", default: 0.1)
        guard steps >= 1 else { throw KitError.invalidArgument("steps must be at least 1, got \(steps)") }
        guard startFactor >= 0, startFactor <= 1 else { throw KitError.invalidArgument("start_factor must be in [0, 1], got \(startFactor)") }
    }

    func onEvent(_ event: KitEvent, context: inout KitCallbackContext) throws {
        switch event {
        case .trainBegin: base = context.learningRate
        case .batchBegin where context.globalStep <= steps:
            context.learningRate = base * (startFactor + (1 - startFactor) * Double(context.globalStep) / Double(steps))
        default: break
        }
    }
}
