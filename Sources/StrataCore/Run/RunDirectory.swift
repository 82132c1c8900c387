import Foundation

/// A run's directory and its layout, in one place:
///
///     recipe.json        the recipe as run (overrides applied)
///     metrics.jsonl      one JSON object per epoch (or scheme round), appended and flushed per line
///     summary.json       the final figures
///     checkpoints/       *.safetensors
///     plots/             *.svg
///     cache/             decoded images beyond the data's memory budget (removed after the run)
///
/// The run orchestrator creates it; callbacks and schemes write only to the places it names.
public final class RunDirectory {
    public let url: URL
    public var path: String { url.path }
    public var recipeFile: URL { url.appendingPathComponent("recipe.json") }
    public var metricsFile: URL { url.appendingPathComponent("metrics.jsonl") }
    public var summaryFile: URL { url.appendingPathComponent("summary.json") }
    public var checkpoints: URL { url.appendingPathComponent("checkpoints") }
    public var plots: URL { url.appendingPathComponent("plots") }
    public var cache: URL { url.appendingPathComponent("cache") }

    /// Creates the directory with `checkpoints/` and `plots/` (existing ones are kept, so a
    /// resumed run may write into the directory it resumes from).
    public init(_ url: URL) throws {
        self.url = url
        do {
            try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(at: plots, withIntermediateDirectories: true)
        } catch {
            throw CoreError.runtime(.file(url.path), "cannot create the run directory \(url.path): \(error.localizedDescription)")
        }
    }

    /// Writes `recipe.json`.
    public func writeRecipe(_ recipe: JSONValue) throws {
        try write(recipe, to: recipeFile)
    }

    /// Writes `summary.json`.
    public func writeSummary(_ summary: JSONValue) throws {
        try write(summary, to: summaryFile)
    }

    /// `metrics.jsonl` opened for appending one line per record.
    public func openMetricsLog() throws -> FileHandle {
        try Self.openForAppending(metricsFile)
    }

    private func write(_ value: JSONValue, to file: URL) throws {
        do {
            try Data((value.serialized(pretty: true) + "\n").utf8).write(to: file, options: .atomic)
        } catch {
            throw CoreError.runtime(.file(file.path), "cannot write \(file.path): \(error.localizedDescription)")
        }
    }

    /// `url` opened for writing at its end, created empty when missing (so a resumed run keeps
    /// the lines of the epochs before it).
    static func openForAppending(_ url: URL) throws -> FileHandle {
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw CoreError.runtime(.file(url.path), "cannot create \(url.path)")
            }
        }
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        return handle
    }
}
