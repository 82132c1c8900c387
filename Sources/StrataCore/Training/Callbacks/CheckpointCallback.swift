import Foundation

/// Saves the model (and the optimizer state) every `every` epochs to
/// `checkpoints/epoch-<n>.safetensors` and `checkpoints/last.safetensors`, keeping the newest
/// `keepLast` epoch files. Files are written atomically: a crash never leaves a half-written one.
///
/// With a monitored figure (`monitor`: `test_loss`, `test_acc`, `train_loss` or `train_acc`;
/// `mode` `min` or `max`, by default `min` for a loss and `max` for an accuracy) it also keeps
/// `checkpoints/best.safetensors`: the epoch whose figure is the best so far, checked at every
/// epoch end (not only every `every`). The best value and epoch go into every checkpoint's
/// metadata (`strata.best`), so a resumed run keeps comparing against them, and into
/// `summary.json` (`best`).
public final class CheckpointCallback: Callback, SummaryContributor {
    public let kind = "checkpoint"
    public let order = CallbackOrder.writer
    public let every: Int
    public let keepLast: Int
    public let best: BestCheckpoint?
    private let directory: URL
    private let checkpointer: Checkpointer
    private var written: [Int] = []
    private var bestValue = Double.nan
    private var bestEpoch = 0

    /// Which figure makes an epoch the best, and whether lower or higher is better.
    public struct BestCheckpoint: Sendable, Equatable {
        public static let monitors = ["test_loss", "test_acc", "train_loss", "train_acc"]
        public let monitor: String
        public let minimize: Bool
        public init(monitor: String, minimize: Bool) {
            self.monitor = monitor
            self.minimize = minimize
        }
    }

    static let bestKey = "strata.best"

    public init(directory: URL, checkpointer: Checkpointer, every: Int = 1, keepLast: Int = 3, best: BestCheckpoint? = nil) {
        self.directory = directory
        self.checkpointer = checkpointer
        self.every = max(every, 1)
        self.keepLast = max(keepLast, 1)
        self.best = best
        if let best {
            checkpointer.stateProviders.append((Self.bestKey, { [weak self] in
                guard let self else { return "" }
                return JSONValue.object(JSONObject([("monitor", .string(best.monitor)), ("value", jsonNumber(self.bestValue)),
                                                    ("epoch", .number(Double(self.bestEpoch)))])).serialized(pretty: false)
            }))
        }
    }

    public func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        if event == .trainBegin, let best, let text = checkpointer.resumedMetadata[Self.bestKey],
           let saved = try? JSONParser.parse(text), saved["monitor"]?.stringValue == best.monitor,
           let value = saved["value"]?.numberValue, let epoch = saved["epoch"]?.numberValue, epoch >= 1, epoch < 1e9 {
            (bestValue, bestEpoch) = (value, Int(epoch))
        }
        guard event == .epochEnd else { return }
        let improved = isImprovement(c)
        if improved {
            bestValue = figure(c)
            bestEpoch = c.epoch
        }
        let periodic = c.epoch % every == 0 || c.epoch == c.epochs || c.stop
        guard periodic || improved else { return }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if improved { try checkpointer.save(to: directory.appendingPathComponent("best.safetensors"), epoch: c.epoch) }
        guard periodic else { return }
        let file = directory.appendingPathComponent("epoch-\(c.epoch).safetensors")
        try checkpointer.save(to: file, epoch: c.epoch)
        try checkpointer.save(to: directory.appendingPathComponent("last.safetensors"), epoch: c.epoch)
        written.append(c.epoch)
        while written.count > keepLast {
            let old = written.removeFirst()
            for url in Checkpointer.files(for: directory.appendingPathComponent("epoch-\(old).safetensors")) {
                try? FileManager.default.removeItem(at: url)
            }
        }
    }

    private func figure(_ c: CallbackContext) -> Double {
        switch best?.monitor {
        case "test_loss": return c.testLoss
        case "train_loss": return c.trainLoss
        case "train_acc": return c.trainAccuracy
        default: return c.testAccuracy
        }
    }

    /// Whether this epoch's figure beats the best so far (a NaN figure never does).
    private func isImprovement(_ c: CallbackContext) -> Bool {
        guard let best else { return false }
        let value = figure(c)
        guard value.isFinite else { return false }
        guard bestValue.isFinite else { return true }
        return best.minimize ? value < bestValue : value > bestValue
    }

    /// `best`: the monitored figure, its mode, the best value, its epoch and the file.
    public var summaryFields: [(String, JSONValue)] {
        guard let best else { return [] }
        return [("best", .object(JSONObject([
            ("monitor", .string(best.monitor)), ("mode", .string(best.minimize ? "min" : "max")),
            ("value", jsonNumber(bestValue)), ("epoch", bestEpoch > 0 ? .number(Double(bestEpoch)) : .null),
            ("file", bestEpoch > 0 ? .string("checkpoints/best.safetensors") : .null),
        ])))]
    }
}

/// A callback with fields of its own for `summary.json`, read when the run ends.
public protocol SummaryContributor {
    var summaryFields: [(String, JSONValue)] { get }
}
