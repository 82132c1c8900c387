import ArgumentParser
import Foundation
import StrataCore

struct LRFind: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lr-find",
        abstract: "Sweep the learning rate exponentially over mini-batches and suggest one (the LR range test).",
        discussion: """
        Trains the recipe's model on successive training batches while the rate grows from --start to
        --end, stops when the smoothed loss exceeds 4 times its minimum, and writes lr_find.csv and
        lr_find.svg (log-scale rate axis) to the output directory (default runs/<name>-lr-find-<UTC
        timestamp>). The model, its statistics, the optimizer and the random streams are left as they
        were. Raise --end (e.g. 100) when the loss still falls at the end of the curve.
        Exit status: 0 success, 2 bad input, 1 any other failure.
        """)

    @Argument(help: "The recipe file (JSON).") var recipe: String
    @Option(name: .long, help: "First rate of the sweep.") var start: Double = 1e-7
    @Option(name: .long, help: "Last rate of the sweep.") var end: Double = 10
    @Option(name: .long, help: "Mini-batches in the sweep (at most).") var steps: Int = 100
    @Option(name: .long, help: "Output directory for lr_find.csv and lr_find.svg.") var out: String?
    @Option(name: .customLong("set"), help: "Override a recipe field by JSON path, e.g. batch_size=64 (repeatable).")
    var overrides: [String] = []

    func run() throws {
        do {
            let options = LRFinder.Options(start: start, end: end, steps: steps)
            try options.validate()
            let experiment = try loadExperiment(recipe, overrides: overrides)
            let result = try LRFinder(options: options).run(experiment)
            let directory = URL(fileURLWithPath: out ?? defaultRunDirectory(name: experiment.recipe.name + "-lr-find"))
            try result.write(to: directory)
            if let reason = result.stopReason {
                FileHandle.standardError.write(Data("lr-find: stopped after \(result.points.count) of \(steps) batches: \(reason)\n".utf8))
            }
            print("""
            suggested learning rate: \(String(format: "%.3g", result.suggestion)) (\(result.rule))
            curve: \(directory.appendingPathComponent("lr_find.csv").path), \(directory.appendingPathComponent("lr_find.svg").path)
            """)
        } catch {
            throw report(error)
        }
    }
}
