import Foundation

/// Saves and restores a model and its optimizer as one checkpoint.
///
/// `name.safetensors` holds the model's parameters and buffers under their PyTorch-style
/// dotted names (`layers.0.weight`), so `safetensors.torch.load_file` gives a state dict;
/// `name.optimizer-<hash>.safetensors` beside it holds the optimizer state. The model file's
/// metadata records the epoch, the recipe and which optimizer file belongs to it: the two are
/// one unit, committed by the model file (``CheckpointPair``).
public final class Checkpointer {
    public let model: Model
    public let optimizer: (any Optimizer)?
    public let recipeText: String
    /// Entries written into every checkpoint's metadata, read when it is saved: the state of
    /// callbacks a resumed run needs (a schedule's base rate, `strata.lr_schedule`).
    public var stateProviders: [(key: String, value: () -> String)] = []
    /// The metadata of the checkpoint the run resumed from (empty for a fresh run).
    public private(set) var resumedMetadata: [String: String] = [:]

    public init(model: Model, optimizer: (any Optimizer)?, recipeText: String = "") {
        self.model = model
        self.optimizer = optimizer
        self.recipeText = recipeText
    }

    /// The files the checkpoint at `url` consists of that exist beside it, the model file first
    /// (remove them in this order: without its model file, an optimizer file is never used).
    public static func files(for url: URL) -> [URL] { [url] + CheckpointPair.optimizerFiles(of: url) }

    /// Writes a model a training scheme built, with its graph in the metadata ("strata.graph"),
    /// so `strata eval --checkpoint` rebuilds that model rather than the recipe's; and, when
    /// given, the optimizer's state with it, as one checkpoint.
    static func saveScheme(model: Model, graph: String, optimizer: (any Optimizer)?, recipeText: String, to url: URL) throws {
        var metadata = ["format": "pt", "strata.graph": graph, "strata.recipe": recipeText]
        // How `strata eval` scores this model when it differs from the recipe's loss.
        if let loss = model.root.evaluationLoss { metadata["strata.eval_loss"] = loss }
        try write(model: model, optimizer: optimizer, metadata: metadata, optimizerMetadata: [:], to: url)
    }

    /// Writes the checkpoint of `epoch` to `url` (and its optimizer file beside it).
    public func save(to url: URL, epoch: Int) throws {
        var metadata = ["format": "pt", "strata.epoch": String(epoch)]
        if !recipeText.isEmpty { metadata["strata.recipe"] = recipeText }
        for (key, value) in stateProviders { metadata[key] = value() }
        try Checkpointer.write(model: model, optimizer: optimizer, metadata: metadata,
                               optimizerMetadata: ["strata.epoch": String(epoch)], to: url)
    }

    /// The optimizer file, then the model file naming it (the commit), then the stale files.
    private static func write(model: Model, optimizer: (any Optimizer)?, metadata: [String: String],
                              optimizerMetadata: [String: String], to url: URL) throws {
        var metadata = metadata
        var record: CheckpointPair.Record? = nil
        if let optimizer {
            let stateMetadata = optimizerMetadata.merging([CheckpointPair.kindKey: optimizer.kind]) { _, kind in kind }
            let written = try CheckpointPair.writeOptimizerState(optimizer.stateTensors(), metadata: stateMetadata, beside: url)
            metadata[CheckpointPair.kindKey] = optimizer.kind
            metadata[CheckpointPair.fileKey] = written.name
            metadata[CheckpointPair.digestKey] = written.sha256
            record = written
        } else {
            metadata[CheckpointPair.kindKey] = "none"
        }
        CheckpointTestHook.step()
        let tensors = model.namedParameters.map { (name: $0.name, tensor: $0.parameter.value) }
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        CheckpointTestHook.step()
        CheckpointPair.removeStale(beside: url, keeping: record?.name)
    }

    /// Loads model parameters from `url` (every parameter must be present with its shape, and the
    /// file may hold nothing else), and, when wanted, the optimizer state of the same checkpoint.
    /// Nothing in the model or the optimizer changes unless everything checks out.
    ///
    /// - Parameters:
    ///   - optimizerState: Whether to restore the optimizer state too (a resume); it must then
    ///     belong to the same save as the model file, or the load is refused.
    ///   - allowNonFinite: Accept NaN or infinite values in the parameters and the state.
    /// - Returns: The epoch recorded in the file (0 if none).
    @discardableResult
    public func load(from url: URL, optimizerState: Bool, allowNonFinite: Bool = false) throws -> Int {
        let file = try SafeTensors.read(from: url)
        let epoch = try CheckpointChecks.epoch(file.metadata, path: url.path)
        let byName = Dictionary(file.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let params = model.namedParameters
        var problems: [String] = []
        for (name, p) in params {
            guard let t = byName[name] else { problems.append("missing \(name)"); continue }
            guard t.shape == p.value.shape else {
                problems.append("\(name) has shape \(describe(t.shape)), the model needs \(describe(p.value.shape))")
                continue
            }
        }
        let known = Set(params.map(\.name))
        for t in file.tensors where !known.contains(t.name) { problems.append("unexpected tensor \(t.name)") }
        guard problems.isEmpty else {
            throw CoreError.badInput(.file(url.path), "\(url.path): does not fit the recipe's model: " + problems.prefix(5).joined(separator: "; ")
                + (problems.count > 5 ? "; and \(problems.count - 5) more" : ""))
        }
        if !allowNonFinite { try CheckpointChecks.requireFinite(file.tensors.map { ($0.name, $0.tensor) }, path: url.path) }
        var state: [(name: String, shape: [Int], tensor: Tensor)]? = nil
        if optimizerState, let optimizer {
            state = try CheckpointPair.optimizerState(for: url, metadata: file.metadata, epoch: epoch, kind: optimizer.kind)
            if let state, !allowNonFinite {
                try CheckpointChecks.requireFinite(state.map { ($0.name, $0.tensor) }, path: url.path + " (optimizer state)")
            }
        }
        for (name, p) in params {
            guard let t = byName[name] else { continue } // checked above
            p.value.copy(from: t.tensor)
        }
        if let state, let optimizer {
            let parameters = Dictionary(uniqueKeysWithValues: params.map { ($0.name, $0.parameter) })
            do {
                try optimizer.loadState(Dictionary(state.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }),
                                        parameters: parameters)
            } catch let error as CoreError {
                throw CoreError.badInput(.file(url.path), "\(url.path) (optimizer state): \(error.description)")
            }
        }
        return epoch
    }

    /// Loads the checkpoint a run resumes from (model and optimizer state, one unit) and returns
    /// the first epoch to train: the one after the epoch it records, which must not be past
    /// `epochs` (a run with nothing left to train is refused rather than reported empty).
    public func resume(from url: URL, epochs: Int, allowNonFinite: Bool = false) throws -> Int {
        let epoch = try load(from: url, optimizerState: true, allowNonFinite: allowNonFinite)
        resumedMetadata = try SafeTensors.metadata(of: url)
        guard epoch < epochs else {
            throw CoreError.badInput(.file(url.path), "\(url.path): the checkpoint records epoch \(epoch) and the recipe's epochs is \(epochs): "
                + "nothing is left to train (raise epochs)")
        }
        return epoch + 1
    }
}
