import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Progress display on standard error: a bar with loss, accuracy, speed and ETA redrawn in
/// place when standard error is a terminal, and one plain line per epoch otherwise (logs, CI).
public final class ProgressCallback: Callback {
    public let kind = "progress"
    private let interactive: Bool
    private var lastDraw = 0.0
    private var epochStart = 0.0

    public init(interactive: Bool = isatty(STDERR_FILENO) != 0) { self.interactive = interactive }

    public func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        switch event {
        case .epochBegin:
            epochStart = monotonicSeconds()
            lastDraw = 0
        case .batchEnd where interactive:
            let now = monotonicSeconds()
            guard now - lastDraw > 0.1 || c.batch + 1 == c.batchesPerEpoch else { return }
            lastDraw = now
            let done = Double(c.batch + 1) / Double(max(c.batchesPerEpoch, 1))
            let width = 24
            let filled = Int(done * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            let elapsed = now - epochStart
            let eta = done > 0 ? elapsed * (1 - done) / done : 0
            writeError("\r\u{1B}[Kepoch \(c.epoch)/\(c.epochs) \(bar) \(c.batch + 1)/\(c.batchesPerEpoch)"
                + " loss \(fixed(c.trainLoss, 4)) acc \(fixed(c.trainAccuracy, 4))"
                + " \(Int(c.examplesPerSecond.isFinite ? c.examplesPerSecond : 0)) ex/s ETA \(clock(eta))")
        case .epochEnd:
            if interactive { writeError("\r\u{1B}[K") }
            writeError(Self.epochLine(c) + "\n")
        default:
            break
        }
    }

    /// The plain per-epoch line.
    static func epochLine(_ c: CallbackContext) -> String {
        "epoch \(c.epoch)/\(c.epochs)  train_loss \(fixed(c.trainLoss, 4))  train_acc \(fixed(c.trainAccuracy, 4))"
            + "  test_loss \(fixed(c.testLoss, 4))  test_acc \(fixed(c.testAccuracy, 4))"
            + "  \(fixed(c.examplesPerSecond, 0)) ex/s  train \(fixed(c.epochTrainSeconds, 2)) s  eval \(fixed(c.epochEvalSeconds, 2)) s"
    }
}

func writeError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// `value` with `digits` decimals, or `-` when not a number.
func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "-" }
    return String(format: "%.\(digits)f", value)
}

func clock(_ seconds: Double) -> String {
    let s = Int(seconds.isFinite ? max(seconds, 0) : 0)
    return s >= 3600 ? "\(s / 3600):" + pad2((s / 60) % 60) + ":" + pad2(s % 60) : "\(s / 60):" + pad2(s % 60)
}

private func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }

func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
