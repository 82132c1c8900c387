import Foundation

/// Saves the model (and the optimizer state) every `every` epochs to
/// `checkpoints/epoch-<n>.safetensors` and `checkpoints/last.safetensors`, keeping the newest
/// `keepLast` epoch files. Files are written atomically: a crash never leaves a half-written one.
public final class CheckpointCallback: Callback {
    public let kind = "checkpoint"
    public let order = CallbackOrder.writer
    public let every: Int
    public let keepLast: Int
    private let directory: URL
    private let checkpointer: Checkpointer
    private var written: [Int] = []

    public init(directory: URL, checkpointer: Checkpointer, every: Int = 1, keepLast: Int = 3) {
        self.directory = directory
        self.checkpointer = checkpointer
        self.every = max(every, 1)
        self.keepLast = max(keepLast, 1)
    }

    public func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        guard event == .epochEnd, c.epoch % every == 0 || c.epoch == c.epochs || c.stop else { return }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
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
}
