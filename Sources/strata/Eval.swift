import ArgumentParser
import Foundation
import StrataCore

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint on a recipe's test set (the recipe gives the data, and the model unless the checkpoint records its own graph, as a training scheme's may).")

    @Argument(help: "The recipe file (JSON).") var recipe: String
    @Option(name: .long, help: "The checkpoint (.safetensors) to load.") var checkpoint: String
    @Option(name: .customLong("set"), help: "Override a recipe field by JSON path (repeatable).") var overrides: [String] = []

    func run() throws {
        do {
            let registry = ComponentRegistry.withPlugins()
            var r = try Recipe.load(file: recipe, overrides: overrides, registry: registry)
            // A checkpoint may record the model it holds (strata.graph), which replaces the
            // recipe's, and how that model's output is scored (strata.eval_loss).
            let metadata = try SafeTensors.metadata(of: URL(fileURLWithPath: checkpoint))
            var file = recipe
            if let text = metadata["strata.graph"] {
                let graph: JSONValue
                do {
                    graph = try JSONParser.parse(text)
                } catch {
                    throw CoreError.badInput(.file(checkpoint), "\(checkpoint): the recorded model graph (strata.graph) is not valid JSON: \(error)")
                }
                file = checkpoint + " (strata.graph)"
                r = try r.replacingModel(graph, registry: registry, file: file)
            }
            let experiment = try Experiment(recipe: r, registry: registry, file: file)
            let epoch = try Checkpointer(model: experiment.model, optimizer: nil)
                .load(from: URL(fileURLWithPath: checkpoint), optimizerState: false, allowNonFinite: r.allowNonFinite)
            var lossName = r.loss.kind
            var evalLoss: (any Loss)? = nil
            if let kind = metadata["strata.eval_loss"] {
                evalLoss = try Self.loss(kind, registry: registry, checkpoint: checkpoint)
                lossName = kind
            }
            // "mean": "auto" uses the statistics the checkpoint records.
            let normalization = try NormalizationRecord.required(by: r.data, checkpoint: checkpoint, metadata: metadata,
                                                                 channels: experiment.source.exampleShape[0])
            let result = try experiment.evaluate(loss: evalLoss, normalization: normalization)
            let origin = metadata["strata.graph"] != nil ? "model recorded in the checkpoint" : "checkpoint epoch \(epoch)"
            print("\(r.name) (\(origin)): test_acc \(format(result.accuracy, 4))  test_loss \(format(result.loss, 4)) (\(lossName))  examples \(result.examples)")
        } catch {
            throw report(error)
        }
    }

    /// The loss a checkpoint names for its evaluation: a registered loss kind, or "none" for
    /// accuracy only.
    static func loss(_ kind: String, registry: ComponentRegistry, checkpoint: String) throws -> any Loss {
        if kind == "none" { return AccuracyOnlyLoss() }
        guard let entry = registry.losses[kind] else {
            throw CoreError.badInput(.file(checkpoint), "\(checkpoint): strata.eval_loss names the loss \"\(kind)\", which is not registered")
        }
        var reader = ConfigReader(.object(JSONObject([("kind", .string(kind))])), path: "strata.eval_loss", diagnostics: Diagnostics())
        guard let spec = entry.factory(&reader) else {
            throw CoreError.badInput(.file(checkpoint), "\(checkpoint): the loss \"\(kind)\" named by strata.eval_loss cannot be made without options")
        }
        return try spec.make()
    }
}
