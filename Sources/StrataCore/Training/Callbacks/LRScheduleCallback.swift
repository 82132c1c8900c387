import Foundation

/// Learning-rate schedules, applied before every batch from the optimizer's base rate `lr₀`:
///
/// - `cosine`: `η = η_min + (lr₀ − η_min)·(1 + cos(π·t/T))/2` over all `T` steps of the run.
/// - `step`: `η = lr₀·γ^⌊(epoch − 1)/step_size⌋`.
/// - `sgdr`: cosine annealing with warm restarts (Loshchilov & Hutter; fast.ai's `cycle_len`,
///   `cycle_mult`): cycle `i` lasts `cycle_len·cycle_mult^i` epochs, and within each the rate
///   anneals from `lr₀` to `η_min` batch by batch, then restarts at `lr₀`.
public final class LRScheduleCallback: Callback {
    public let order = CallbackOrder.schedule
    public enum Schedule: Equatable {
        case cosine(etaMin: Double)
        case step(stepSize: Int, gamma: Double)
        case sgdr(cycleLength: Int, cycleMultiplier: Int, etaMin: Double)

        static func parse(_ c: inout ConfigReader) -> Schedule? {
            switch c.choice("schedule", ["cosine", "step", "sgdr"], default: "") {
            case "cosine": return .cosine(etaMin: c.double("eta_min", default: 0, in: 0...1e6))
            case "step": return .step(stepSize: c.int("step_size", default: 1, in: 1...100_000),
                                      gamma: c.double("gamma", default: 0.1, in: 0...1e6))
            case "sgdr": return .sgdr(cycleLength: c.int("cycle_len", default: 1, in: 1...100_000),
                                      cycleMultiplier: c.int("cycle_mult", default: 1, in: 1...100),
                                      etaMin: c.double("eta_min", default: 0, in: 0...1e6))
            default:
                if !c.has("schedule") { c.diagnostics.error(at: c.childPath("schedule"), "is required: \"cosine\", \"step\" or \"sgdr\"") }
                return nil
            }
        }
    }

    public let kind = "lr_schedule"
    public let schedule: Schedule
    private var base = Double.nan

    public init(_ schedule: Schedule) { self.schedule = schedule }

    public func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        if event == .trainBegin { base = c.learningRate }
        guard event == .batchBegin else { return }
        c.learningRate = rate(epoch: c.epoch, batch: c.batch, batchesPerEpoch: c.batchesPerEpoch, epochs: c.epochs)
    }

    /// The rate for a (1-based) epoch and a (0-based) batch within it.
    public func rate(epoch: Int, batch: Int, batchesPerEpoch: Int, epochs: Int) -> Double {
        let b = Double(max(batchesPerEpoch, 1))
        switch schedule {
        case let .cosine(etaMin):
            let t = Double(epoch - 1) * b + Double(batch), total = Double(epochs) * b
            return etaMin + (base - etaMin) * (1 + cos(Double.pi * t / total)) / 2
        case let .step(stepSize, gamma):
            return base * pow(gamma, Double((epoch - 1) / stepSize))
        case let .sgdr(length, multiplier, etaMin):
            var start = 0, cycle = length
            while epoch - 1 >= start + cycle { start += cycle; cycle *= multiplier }
            let t = Double(epoch - 1 - start) * b + Double(batch), total = Double(cycle) * b
            return etaMin + (base - etaMin) * (1 + cos(Double.pi * t / total)) / 2
        }
    }
}

/// Stops training when the monitored figure has not improved by `minDelta` for `patience` epochs.
public final class EarlyStopCallback: Callback {
    public let kind = "early_stop"
    public let monitor: String
    public let patience: Int
    public let minDelta: Double
    private var best = Double.nan
    private var waited = 0

    public init(monitor: String, patience: Int, minDelta: Double) {
        self.monitor = monitor
        self.patience = patience
        self.minDelta = minDelta
    }

    public func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        guard event == .epochEnd else { return }
        let value: Double
        switch monitor {
        case "test_loss": value = -c.testLoss
        case "train_loss": value = -c.trainLoss
        default: value = c.testAccuracy
        }
        guard value.isFinite else { return }
        if best.isNaN || value > best + minDelta {
            best = value
            waited = 0
        } else {
            waited += 1
            if waited >= patience {
                c.stop = true
                writeError("early stop: \(monitor) has not improved for \(patience) epoch\(patience == 1 ? "" : "s")\n")
            }
        }
    }
}
