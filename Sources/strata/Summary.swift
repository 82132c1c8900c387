import ArgumentParser
import Foundation
import StrataCore

struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a recipe's model without data and list each layer's output shape and parameter count.")

    @Argument(help: "The recipe file (JSON).") var recipe: String
    @Flag(name: .long, help: "Print JSON instead of a table.") var json = false
    @Option(name: .customLong("set"), help: "Override a recipe field by JSON path (repeatable).") var overrides: [String] = []

    func run() throws {
        do {
            let experiment = try loadExperiment(recipe, overrides: overrides)
            let rows = ModelSummary.rows(of: experiment.model)
            if json {
                print(ModelSummary.json(rows, model: experiment.model).serialized(pretty: true))
            } else {
                print(ModelSummary.table(rows, model: experiment.model))
            }
        } catch {
            throw report(error)
        }
    }
}
