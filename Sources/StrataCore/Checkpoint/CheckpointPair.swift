import CStrataKernels
import Foundation

/// How a checkpoint's model file and optimizer file form one unit.
///
/// A checkpoint `name.safetensors` is a pair committed by its model file:
///
/// 1. The optimizer state is written (atomically) to `name.optimizer-<h>.safetensors`, where `<h>`
///    is the first 16 hex digits of the SHA-256 of the file's bytes. A new state therefore never
///    replaces the file the current model file refers to (a file of the same name holds the
///    same bytes).
/// 2. The model file is written (atomically); its metadata names the optimizer file
///    (`strata.optimizer_file`) and records its full SHA-256 (`strata.optimizer_sha256`) and kind
///    (`strata.optimizer`). Its rename is the commit.
/// 3. Optimizer files of `name` that the model file no longer names are removed.
///
/// A crash before step 2 leaves the previous model file and the optimizer file it names; a
/// crash after it, the new pair (and a stale file that the next save removes). Loading checks
/// the recorded digest, so a pair from two different saves is refused, never used.
///
/// Files written before this scheme (`name.optimizer.safetensors` beside `name.safetensors`,
/// no reference in the metadata) are used only when both record the same epoch.
enum CheckpointPair {
    /// What the model file records of its optimizer file.
    struct Record {
        /// The optimizer file's name, in the model file's folder.
        var name: String
        /// SHA-256 of its bytes, 64 lower-case hex digits.
        var sha256: String
    }

    /// Metadata keys of the model file.
    static let kindKey = "strata.optimizer"
    static let fileKey = "strata.optimizer_file"
    static let digestKey = "strata.optimizer_sha256"

    /// The optimizer file name of the format before the pair was committed by the model file.
    static func legacyURL(for url: URL) -> URL {
        url.deletingPathExtension().appendingPathExtension("optimizer").appendingPathExtension("safetensors")
    }

    /// `name.optimizer-` for the model file `name.safetensors`.
    private static func prefix(for url: URL) -> String {
        url.deletingPathExtension().lastPathComponent + ".optimizer-"
    }

    /// Whether `name` is an optimizer file name this scheme gives the model file at `url`
    /// (no folder part, 16 hex digits), so a damaged reference cannot point elsewhere.
    static func isOptimizerName(_ name: String, for url: URL) -> Bool {
        let prefix = prefix(for: url), suffix = ".safetensors"
        guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.utf8.count == prefix.utf8.count + 16 + suffix.utf8.count
        else { return false }
        return name.utf8.dropFirst(prefix.utf8.count).prefix(16).allSatisfy {
            (0x30...0x39).contains($0) || (0x61...0x66).contains($0)
        }
    }

    /// Step 1: writes the optimizer state beside the model file `url`; returns what the model
    /// file must record.
    static func writeOptimizerState(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String],
                                    beside url: URL) throws -> Record {
        let digest = SafeTensors.sha256(of: tensors, metadata: metadata)
        let name = prefix(for: url) + digest.prefix(16) + ".safetensors"
        try SafeTensors.write(tensors, metadata: metadata, to: url.deletingLastPathComponent().appendingPathComponent(name))
        return Record(name: name, sha256: digest)
    }

    /// Every optimizer file of the model file `url` present in its folder (this scheme's and the
    /// older one's).
    static func optimizerFiles(of url: URL) -> [URL] {
        let folder = url.deletingLastPathComponent()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var found = names.filter { isOptimizerName($0, for: url) }.sorted().map { folder.appendingPathComponent($0) }
        let legacy = legacyURL(for: url)
        if FileManager.default.fileExists(atPath: legacy.path) { found.append(legacy) }
        return found
    }

    /// Step 3: removes the optimizer files of `url` other than `kept`, and temporary files of
    /// this checkpoint left by a process that no longer runs (a crash during a write).
    static func removeStale(beside url: URL, keeping kept: String?) {
        for file in optimizerFiles(of: url) where file.lastPathComponent != kept {
            try? FileManager.default.removeItem(at: file)
        }
        let folder = url.deletingLastPathComponent()
        let base = url.deletingPathExtension().lastPathComponent + "."
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where name.hasPrefix(base) {
            // sio_write_file_atomic's temporary files are `<file>.tmp-<pid>`.
            guard let marker = name.range(of: ".safetensors.tmp-", options: .backwards),
                  let pid = Int32(name[marker.upperBound...]), pid != getpid(),
                  kill(pid, 0) != 0, errno == ESRCH else { continue }
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    /// The optimizer state that belongs to the model file `url` (whose metadata and epoch are
    /// given), or `nil` when it holds none for an optimizer of kind `kind`: the model file
    /// records no optimizer, or another kind (a recipe may change optimizers when resuming).
    ///
    /// - Throws: ``CoreError/badInput(_:)`` naming both files and their epochs when the
    ///   optimizer file is missing or belongs to another save, and the reader's errors.
    static func optimizerState(for url: URL, metadata: [String: String], epoch: Int, kind: String)
        throws -> [(name: String, shape: [Int], tensor: Tensor)]? {
        let modelPath = url.path
        func mismatch(_ optimizerPath: String, _ what: String) -> CoreError {
            .badInput("\(modelPath) (epoch \(epoch)) and \(optimizerPath) \(what): they are not one checkpoint, "
                + "so the run does not resume from them (a checkpoint is written whole at each epoch end: use another one, "
                + "or a recipe with another optimizer kind to start its state afresh)")
        }
        if let name = metadata[fileKey] {
            guard isOptimizerName(name, for: url) else {
                throw CoreError.badInput("\(modelPath): the metadata \(fileKey) \"\(name.prefix(80))\" is not the name of an optimizer file of this checkpoint")
            }
            guard metadata[kindKey] == kind else { return nil }
            let optimizerURL = url.deletingLastPathComponent().appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: optimizerURL.path) else {
                throw mismatch(optimizerURL.path, "(missing)")
            }
            let state = try SafeTensors.read(from: optimizerURL)
            let stateEpoch = state.metadata["strata.epoch"].map { "epoch \($0)" } ?? "no epoch"
            var digest = [UInt8](repeating: 0, count: 32)
            let status = sk_sha256_file(optimizerURL.path, &digest)
            guard status == 0 else {
                throw DataError.unreadable(path: optimizerURL.path, reason: "cannot read: \(String(cString: strerror(status)))")
            }
            let actual = digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            guard actual == metadata[digestKey], state.metadata["strata.epoch"] == metadata["strata.epoch"] else {
                throw mismatch(optimizerURL.path, "(\(stateEpoch)) were written by different saves (its SHA-256 is not the one the model file records)")
            }
            return state.tensors
        }
        if metadata[kindKey] != nil { return nil } // a checkpoint saved without an optimizer
        // The older format: only the epochs tell whether the two files belong together.
        let legacy = legacyURL(for: url)
        guard FileManager.default.fileExists(atPath: legacy.path) else {
            // A file from another program has no epoch and no optimizer state: start afresh.
            guard metadata["strata.epoch"] == nil else { throw mismatch(legacy.path, "(missing)") }
            return nil
        }
        let state = try SafeTensors.read(from: legacy)
        guard state.metadata[kindKey] == kind else { return nil }
        guard state.metadata["strata.epoch"] == metadata["strata.epoch"] else {
            throw mismatch(legacy.path, "(\(state.metadata["strata.epoch"].map { "epoch \($0)" } ?? "no epoch")) were written at different epochs")
        }
        return state.tensors
    }
}

/// A test hook: with `STRATA_TEST_KILL_AT_CHECKPOINT_STEP=n` in the environment, the process
/// kills itself (SIGKILL) at the n-th checkpoint step it reaches, counting from 1. The steps
/// of one save are: the optimizer file written (the model file not yet), and the model file
/// written (stale files not yet removed). The crash tests use it to stop a run exactly between
/// the writes of one checkpoint.
enum CheckpointTestHook {
    static let killAt: Int? = ProcessInfo.processInfo.environment["STRATA_TEST_KILL_AT_CHECKPOINT_STEP"].flatMap { Int($0) }
    nonisolated(unsafe) static var stepsReached = 0

    static func step() {
        guard let killAt else { return }
        stepsReached += 1
        if stepsReached == killAt { kill(getpid(), SIGKILL) }
    }
}
