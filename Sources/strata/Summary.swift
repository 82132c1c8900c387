import ArgumentParser
import Foundation
import StrataCore

struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a recipe's model without data and list each layer's input and output shape, whether it trains, and its parameter count.")

    @Argument(help: "The recipe file (JSON).") var recipe: String
    @Flag(name: .long, help: "Print JSON instead of a table.") var json = false
    @Option(name: .customLong("set"), help: "Override a recipe field by JSON path (repeatable).") var overrides: [String] = []
    @Option(name: .customLong("input-shape"),
            help: "One example's shape, e.g. 3,32,32 (default: the data set's).") var inputShape: String?

    func run() throws {
        do {
            let registry = ComponentRegistry.withPlugins()
            let loaded = try Recipe.load(file: recipe, overrides: overrides, registry: registry)
            var shape: [Int]?
            if let inputShape {
                let parts = inputShape.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
                guard !parts.isEmpty, parts.count <= 8, parts.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 1 << 20 }) else {
                    throw CoreError.badInput("--input-shape \(inputShape): expected 1 to 8 comma-separated sizes between 1 and 1048576, e.g. 3,32,32")
                }
                shape = parts.map { $0! }
            }
            let model = try ModelSummary.model(recipe: loaded, registry: registry, file: recipe, exampleShape: shape)
            let rows = ModelSummary.rows(of: model)
            if json {
                print(ModelSummary.json(rows, model: model).serialized(pretty: true))
            } else {
                print(ModelSummary.table(rows, model: model))
            }
        } catch {
            throw report(error)
        }
    }
}
