import ArgumentParser
import Foundation
import StrataCore

@main
struct StrataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Train and inspect networks described by JSON recipes.",
        subcommands: [Run.self, LRFind.self, Summary.self, Eval.self, Predict.self, Cam.self, Bench.self, Plugins.self])

    /// Runs the command line; usage errors exit 2 like every other bad input (docs/design.md).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                let message = fullMessage(for: error)
                FileHandle.standardError.write(Data((message + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

/// Prints a failure the way the CLI contract says (a sentence naming what and where) and
/// returns the exit status: 2 for bad input, 1 for anything else.
func report(_ error: Error) -> ExitCode {
    let (message, status): (String, Int32)
    switch error {
    case let e as CoreError: (message, status) = (e.description, e.exitStatus)
    case let e as RecipeValidationError: (message, status) = (e.description, 2)
    case let e as DataError: (message, status) = (e.description, 2)
    case let e as ExitCode: return e
    default: (message, status) = ("\(error)", 1)
    }
    FileHandle.standardError.write(Data(("strata: " + message + "\n").utf8))
    return ExitCode(status)
}

/// Reads and validates a recipe (with `--set` overrides) and builds its experiment against the
/// registry of built-ins and discovered plugins (libraries open only when the recipe uses one of
/// their components): the first step of every subcommand that takes a recipe.
func loadExperiment(_ file: String, overrides: [String] = [], threads: Int? = nil) throws -> Experiment {
    let registry = ComponentRegistry.withPlugins()
    var recipe = try Recipe.load(file: file, overrides: overrides, registry: registry)
    if let threads { recipe.threads = threads }
    return try Experiment(recipe: recipe, registry: registry, file: file)
}
