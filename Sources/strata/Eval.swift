import ArgumentParser
import Foundation
import StrataCore

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint on a recipe's test set (the recipe gives the data, and the model unless the checkpoint records its own graph, as BoostResNet's do).")

    @Argument(help: "The recipe file (JSON).") var recipe: String
    @Option(name: .long, help: "The checkpoint (.safetensors) to load.") var checkpoint: String
    @Option(name: .customLong("set"), help: "Override a recipe field by JSON path (repeatable).") var overrides: [String] = []

    func run() throws {
        do {
            let registry = ComponentRegistry.withPlugins()
            var r = try Recipe.load(file: recipe, overrides: overrides, registry: registry)
            // A checkpoint written by a training scheme records the model it holds (for
            // BoostResNet, the boosted ensemble), which replaces the recipe's model.
            let metadata = try SafeTensors.metadata(of: URL(fileURLWithPath: checkpoint))
            if let text = metadata["strata.graph"] {
                do {
                    r.model = try JSONParser.parse(text)
                } catch {
                    throw StrataError.badInput("\(checkpoint): the recorded model graph (strata.graph) is not valid JSON: \(error)")
                }
            }
            let experiment = try Experiment(recipe: r, registry: registry, file: metadata["strata.graph"] == nil ? recipe : checkpoint + " (strata.graph)")
            let epoch = try Checkpointer(model: experiment.model, optimizer: nil)
                .load(from: URL(fileURLWithPath: checkpoint), optimizerState: false, allowNonFinite: r.allowNonFinite)
            // A boosted ensemble's scores are not logits: a positive mixture of distributions is
            // scored by its likelihood; other outputs (batch softmax, binary) have no loss here.
            var lossName = r.loss.kind
            var evalLoss: (any Loss)? = nil
            if let ensemble = experiment.model.root as? BoostEnsemble, metadata["strata.graph"] != nil {
                evalLoss = ensemble.outputIsMixture ? MixtureNLLLoss() : AccuracyOnlyLoss()
                lossName = ensemble.outputIsMixture ? "mixture_nll" : "none"
            }
            let result = try experiment.evaluate(loss: evalLoss)
            let origin = metadata["strata.graph"] != nil ? "model recorded in the checkpoint" : "checkpoint epoch \(epoch)"
            print("\(r.name) (\(origin)): test_acc \(format(result.accuracy, 4))  test_loss \(format(result.loss, 4)) (\(lossName))  examples \(result.examples)")
        } catch {
            throw report(error)
        }
    }
}
