import ArgumentParser
import Foundation
import StrataCore

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a recipe: train, evaluate each epoch, write the run directory.",
        discussion: """
        The run directory (default runs/<name>-<UTC timestamp>/) receives recipe.json, metrics.jsonl,
        summary.json, checkpoints/ and plots/. Progress goes to standard error; the final figures to
        standard output. Exit status: 0 success, 2 bad input, 1 any other failure.
        """)

    @Argument(help: "The recipe file (JSON).") var recipe: String
    @Option(name: .long, help: "Run directory (default: runs/<name>-<UTC timestamp>).") var out: String?
    @Option(name: .customLong("set"), help: "Override a recipe field by JSON path, e.g. optimizer.lr=0.1 (repeatable).")
    var overrides: [String] = []

    func run() throws {
        do {
            let experiment = try loadExperiment(recipe, overrides: overrides)
            try printMachine(toStandardError: false)
            let r = experiment.recipe
            let directory = URL(fileURLWithPath: out ?? defaultRunDirectory(name: r.name))
            let summary = try experiment.run(directory: directory, recipeText: r.json.serialized(pretty: false))
            let last = summary.final
            print("""
            \(r.name): test_acc \(format(last?.testAccuracy, 4))  test_loss \(format(last?.testLoss, 4))  \
            train_time \(format(summary.trainSeconds, 1)) s  \(format(summary.examplesPerSecond, 0)) ex/s  \
            peak_rss \(summary.peakRSSBytes / 1_048_576) MiB
            run directory: \(directory.path)
            """)
        } catch {
            throw report(error)
        }
    }
}

func defaultRunDirectory(name: String) -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyyMMdd-HHmmss"
    return "runs/\(name)-\(f.string(from: Date()))"
}

func format(_ value: Double?, _ digits: Int) -> String {
    guard let value, value.isFinite else { return "-" }
    return String(format: "%.\(digits)f", value)
}
