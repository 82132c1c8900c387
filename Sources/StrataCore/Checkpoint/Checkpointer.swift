import Foundation

/// Saves and restores a model and its optimizer as safetensors files.
///
/// `name.safetensors` holds the model's parameters and buffers under their PyTorch-style
/// dotted names (`layers.0.weight`), so `safetensors.torch.load_file` gives a state dict;
/// `name.optimizer.safetensors` beside it holds the optimizer state. The metadata records the
/// epoch, the optimizer kind and the recipe.
public final class Checkpointer {
    public let model: Model
    public let optimizer: (any Optimizer)?
    public let recipeText: String

    public init(model: Model, optimizer: (any Optimizer)?, recipeText: String = "") {
        self.model = model
        self.optimizer = optimizer
        self.recipeText = recipeText
    }

    /// The files a checkpoint at `url` consists of.
    public static func files(for url: URL) -> [URL] { [url, optimizerURL(for: url)] }

    static func optimizerURL(for url: URL) -> URL {
        let base = url.deletingPathExtension()
        return base.appendingPathExtension("optimizer").appendingPathExtension("safetensors")
    }

    /// Writes a model a training scheme built, with its graph in the metadata ("strata.graph"),
    /// so `strata eval --checkpoint` rebuilds that model rather than the recipe's; and, when
    /// given, the optimizer's state beside it. Each file is written atomically.
    static func saveScheme(model: Model, graph: String, optimizer: (any Optimizer)?, recipeText: String, to url: URL) throws {
        var metadata = ["format": "pt", "strata.graph": graph, "strata.recipe": recipeText]
        // How `strata eval` scores this model when it differs from the recipe's loss.
        if let loss = model.root.evaluationLoss { metadata["strata.eval_loss"] = loss }
        let tensors = model.namedParameters.map { (name: $0.name, tensor: $0.parameter.value) }
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        if let optimizer {
            try SafeTensors.write(optimizer.stateTensors(), metadata: ["strata.optimizer": optimizer.kind], to: optimizerURL(for: url))
        }
    }

    public func save(to url: URL, epoch: Int) throws {
        var metadata = ["format": "pt", "strata.epoch": String(epoch)]
        if !recipeText.isEmpty { metadata["strata.recipe"] = recipeText }
        let tensors = model.namedParameters.map { (name: $0.name, tensor: $0.parameter.value) }
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        if let optimizer {
            try SafeTensors.write(optimizer.stateTensors(), metadata: ["strata.optimizer": optimizer.kind, "strata.epoch": String(epoch)],
                                  to: Checkpointer.optimizerURL(for: url))
        }
    }

    /// Loads model parameters from `url` (every parameter must be present with its shape, and the
    /// file may hold nothing else), and the optimizer state beside it when present and wanted.
    /// Returns the epoch recorded in the file (0 if none).
    @discardableResult
    public func load(from url: URL, optimizerState: Bool) throws -> Int {
        let file = try SafeTensors.read(from: url)
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
            throw StrataError.badInput("\(url.path): does not fit the recipe's model: " + problems.prefix(5).joined(separator: "; ")
                + (problems.count > 5 ? "; and \(problems.count - 5) more" : ""))
        }
        for (name, p) in params { p.value.copy(from: byName[name]!.tensor) }
        if optimizerState, let optimizer {
            let optURL = Checkpointer.optimizerURL(for: url)
            if FileManager.default.fileExists(atPath: optURL.path) {
                let state = try SafeTensors.read(from: optURL)
                if state.metadata["strata.optimizer"] == optimizer.kind {
                    let parameters = Dictionary(uniqueKeysWithValues: params.map { ($0.name, $0.parameter) })
                    do {
                        try optimizer.loadState(Dictionary(state.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }),
                                                parameters: parameters)
                    } catch let error as StrataError {
                        throw StrataError.badInput("\(optURL.path): \(error.description)")
                    }
                }
            }
        }
        return Int(file.metadata["strata.epoch"] ?? "") ?? 0
    }
}
