import CStrataKernels

/// Checks of what a checkpoint holds beyond its format: the epoch recorded in its metadata and
/// the finiteness of its tensors. Each failure names the file (and the tensor).
enum CheckpointChecks {
    /// The largest epoch a checkpoint may record: a recipe's `epochs` is at most this.
    static let maximumEpoch = 100_000

    /// The epoch recorded in `metadata["strata.epoch"]`, 0 when there is none (a file written
    /// by another program). Anything but a whole number from 0 to ``maximumEpoch`` is refused,
    /// so a damaged file can neither overflow the epoch arithmetic nor resume at a negative epoch.
    static func epoch(_ metadata: [String: String], path: String) throws -> Int {
        guard let text = metadata["strata.epoch"] else { return 0 }
        guard !text.isEmpty, text.utf8.count <= 6, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              let epoch = Int(text), epoch <= maximumEpoch else {
            let shown = text.count > 40 ? String(text.prefix(40)) + "…" : text
            throw CoreError.badInput(.file(path), "\(path): the metadata strata.epoch is \"\(shown)\"; expected a whole number of epochs from 0 to \(maximumEpoch)")
        }
        return epoch
    }

    /// Throws unless every element of every tensor is finite; the error names the file, the
    /// tensor, the first bad value and its element index.
    static func requireFinite(_ tensors: [(name: String, tensor: Tensor)], path: String) throws {
        for (name, tensor) in tensors {
            let index = Int(sk_first_non_finite(tensor.data, Int64(tensor.count)))
            guard index >= 0 else { continue }
            throw CoreError.badInput(.tensor(file: path, name: name), "\(path): tensor '\(name)' holds \(tensor.data[index]) at element \(index) of \(tensor.count); "
                + "a checkpoint with non-finite values is refused (\"checkpoint\": {\"allow_non_finite\": true} loads it anyway)")
        }
    }
}
