import ArgumentParser
import Foundation
import StrataCore

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint on a recipe's test set (the recipe gives the model and the data).")

    @Argument(help: "The recipe file (JSON).") var recipe: String
    @Option(name: .long, help: "The checkpoint (.safetensors) to load.") var checkpoint: String
    @Option(name: .customLong("set"), help: "Override a recipe field by JSON path (repeatable).") var overrides: [String] = []

    func run() throws {
        do {
            let experiment = try loadExperiment(recipe, overrides: overrides)
            let r = experiment.recipe
            let epoch = try Checkpointer(model: experiment.model, optimizer: nil)
                .load(from: URL(fileURLWithPath: checkpoint), optimizerState: false)
            let result = try experiment.evaluate()
            print("\(r.name) (checkpoint epoch \(epoch)): test_acc \(format(result.accuracy, 4))  test_loss \(format(result.loss, 4))  examples \(result.examples)")
        } catch {
            throw report(error)
        }
    }
}
