import Foundation

/// Appends one JSON object per epoch to `metrics.jsonl` in the run directory:
/// `epoch`, `train_loss`, `train_acc`, `test_loss`, `test_acc`, `examples_per_s`, `train_s`,
/// `eval_s`, `lr`, with gradient clipping `grad_norm` and `grad_norm_max`, then the figures other
/// callbacks added (`CallbackContext.metrics`). Each line is flushed as it is written, so a crashed run keeps its history.
public final class MetricsLogCallback: Callback {
    public let kind = "metrics_log"
    public let order = CallbackOrder.writer
    private let url: URL
    private var handle: FileHandle?

    public init(url: URL) { self.url = url }

    public func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        switch event {
        case .trainBegin:
            handle = try RunDirectory.openForAppending(url)
        case .epochEnd:
            var record: [(String, JSONValue)] = [
                ("epoch", .number(Double(c.epoch))),
                ("train_loss", jsonNumber(c.trainLoss)), ("train_acc", jsonNumber(c.trainAccuracy)),
                ("test_loss", jsonNumber(c.testLoss)), ("test_acc", jsonNumber(c.testAccuracy)),
                ("examples_per_s", jsonNumber(c.examplesPerSecond)),
                ("train_s", jsonNumber(c.epochTrainSeconds)), ("eval_s", jsonNumber(c.epochEvalSeconds)),
                ("lr", jsonNumber(c.learningRate)),
            ]
            if c.gradientNorm.isFinite {
                record += [("grad_norm", .number(c.gradientNorm)), ("grad_norm_max", jsonNumber(c.gradientNormMax))]
            }
            record += c.metrics.map { ($0.name, jsonNumber($0.value)) }
            try write(JSONValue.object(JSONObject(record)).serialized(pretty: false) + "\n")
        case .trainEnd:
            try handle?.close()
            handle = nil
        default:
            break
        }
    }

    /// Appends a line (one JSON object) to the log.
    public func write(_ line: String) throws {
        try handle?.write(contentsOf: Data(line.utf8))
    }
}

/// A JSON number, or null for NaN and infinities (JSON has no NaN).
func jsonNumber(_ value: Double) -> JSONValue { value.isFinite ? .number(value) : .null }
