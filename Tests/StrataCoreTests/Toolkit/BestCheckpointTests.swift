import Foundation
import Testing
@testable import StrataCore

@Suite("Best checkpoint by a monitored figure", .serialized)
struct BestCheckpointTests {
    static func recipe(_ data: String, checkpoint: String) -> String {
        """
        {"name": "best", "seed": 4, "epochs": 5, "batch_size": 16,
         "data": {"dataset": "fashion-mnist", "path": "\(data)"},
         "model": {"kind": "sequential", "layers": [
           {"kind": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2},
           {"kind": "relu"}, {"kind": "flatten"}, {"kind": "linear", "out_features": 10}]},
         "optimizer": {"kind": "sgd", "lr": 0.3, "momentum": 0.9},
         "callbacks": [{"kind": "metrics_log"}, \(checkpoint)]}
        """
    }

    func tensors(_ url: URL) throws -> [[Float]] {
        try SafeTensors.read(from: url).tensors.map { $0.tensor.array() }
    }

    @Test(arguments: [("test_loss", "min"), ("test_acc", "max"), ("train_loss", "max")])
    func keepsTheBestEpochBesideLastAndRecordsItInTheSummary(monitor: String, mode: String) throws {
        let data = try SyntheticData.folder(train: .init(count: 64), test: .init(count: 40))
        let checkpoint = #"{"kind": "checkpoint", "keep_last": 10, "monitor": "\#(monitor)", "mode": "\#(mode)"}"#
        let file = RecipeFixtures.write(Self.recipe(data, checkpoint: checkpoint))
        let registry = ComponentRegistry.builtIn()
        let recipe = try Recipe.load(file: file, registry: registry)
        let directory = RecipeFixtures.temporaryDirectory("best")
        _ = try Experiment(recipe: recipe, registry: registry, file: file).run(directory: directory, recipeText: "")

        // The expected best epoch, from metrics.jsonl (the first of equal values).
        let values = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONParser.parse(String($0))[monitor]!.numberValue! }
        let target = mode == "min" ? values.min()! : values.max()!
        let epoch = values.firstIndex(of: target)! + 1

        let checkpoints = directory.appendingPathComponent("checkpoints")
        let best = checkpoints.appendingPathComponent("best.safetensors")
        #expect(try SafeTensors.metadata(of: best)["strata.epoch"] == "\(epoch)", "\(monitor) \(mode): values \(values)")
        #expect(try tensors(best) == tensors(checkpoints.appendingPathComponent("epoch-\(epoch).safetensors")))
        #expect(FileManager.default.fileExists(atPath: checkpoints.appendingPathComponent("last.safetensors").path))
        let summary = try JSONParser.parse(String(contentsOf: directory.appendingPathComponent("summary.json"), encoding: .utf8))
        #expect(summary["best"]?["epoch"]?.numberValue == Double(epoch))
        #expect(summary["best"]?["value"]?.numberValue == target)
        #expect(summary["best"]?["monitor"]?.stringValue == monitor && summary["best"]?["mode"]?.stringValue == mode)
        #expect(summary["best"]?["file"]?.stringValue == "checkpoints/best.safetensors")
        // A checkpoint that resumes carries the best so far.
        #expect(try SafeTensors.metadata(of: checkpoints.appendingPathComponent("last.safetensors"))["strata.best"]?.contains("\"epoch\":\(epoch)") == true)
    }

    @Test func aResumedRunKeepsComparingAgainstTheBestBeforeIt() throws {
        let data = try SyntheticData.folder(train: .init(count: 64), test: .init(count: 40))
        let file = RecipeFixtures.write(Self.recipe(data, checkpoint: #"{"kind": "checkpoint", "keep_last": 10, "monitor": "test_loss"}"#))
        let registry = ComponentRegistry.builtIn()
        let whole = RecipeFixtures.temporaryDirectory("best-whole")
        _ = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
            .run(directory: whole, recipeText: "")
        let resumed = RecipeFixtures.temporaryDirectory("best-resumed")
        let from = whole.appendingPathComponent("checkpoints/epoch-3.safetensors").path
        _ = try Experiment(recipe: try Recipe.load(file: file, overrides: ["checkpoint.resume=\"\(from)\""], registry: registry),
                           registry: registry, file: file).run(directory: resumed, recipeText: "")
        let a = try JSONParser.parse(String(contentsOf: whole.appendingPathComponent("summary.json"), encoding: .utf8))["best"]
        let b = try JSONParser.parse(String(contentsOf: resumed.appendingPathComponent("summary.json"), encoding: .utf8))["best"]
        #expect(a?["epoch"]?.numberValue == b?["epoch"]?.numberValue && a?["value"]?.numberValue == b?["value"]?.numberValue)
    }

    @Test func anUnloggedFigureOrABadModeIsRefusedAtItsPathWithExitStatus2() throws {
        let data = try SyntheticData.folder(train: .init(count: 32), test: .init(count: 16))
        for (checkpoint, path) in [(#"{"kind": "checkpoint", "monitor": "val_loss"}"#, "$.callbacks[1].monitor"),
                                   (#"{"kind": "checkpoint", "monitor": "test_loss", "mode": "lowest"}"#, "$.callbacks[1].mode"),
                                   (#"{"kind": "checkpoint", "mode": "min"}"#, "$.callbacks[1].mode")] {
            let file = RecipeFixtures.write(Self.recipe(data, checkpoint: checkpoint))
            let run = try BoundedRun.strata(["run", file, "--out", RecipeFixtures.temporaryDirectory("best-bad").path])
            #expect(run.status == 2 && run.err.contains(path), "\(checkpoint): \(run.err)")
        }
    }
}
