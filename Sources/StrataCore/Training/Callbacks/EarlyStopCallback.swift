import Foundation

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
