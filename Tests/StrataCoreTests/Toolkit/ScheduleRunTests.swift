import Foundation
import Testing
@testable import StrataCore

/// Records the rate and momentum of every batch after the schedules set them.
final class RateRecorder: Callback {
    let kind = "rate_recorder"
    var steps: [String: (lr: Double, momentum: Double?)] = [:]
    func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        if event == .batchBegin { steps["\(c.epoch).\(c.batch)"] = (c.learningRate, c.momentum) }
    }
}

@Suite("Schedules in runs: resume and snapshots", .serialized)
struct ScheduleRunTests {
    static func recipe(_ data: String, epochs: Int, schedule: String) -> String {
        """
        {"name": "sched", "seed": 2, "epochs": \(epochs), "batch_size": 16,
         "data": {"dataset": "fashion-mnist", "path": "\(data)"},
         "model": {"kind": "sequential", "layers": [
           {"kind": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2},
           {"kind": "batchnorm2d"}, {"kind": "relu"}, {"kind": "flatten"},
           {"kind": "linear", "out_features": 10}]},
         "optimizer": {"kind": "adam", "lr": 0.01},
         "callbacks": [\(schedule), {"kind": "checkpoint", "every": 1, "keep_last": 10}]}
        """
    }

    func run(_ file: String, overrides: [String] = [], directory: URL) throws -> (RateRecorder, RunSummary) {
        let registry = ComponentRegistry.builtIn()
        let recipe = try Recipe.load(file: file, overrides: overrides, registry: registry)
        let e = try Experiment(recipe: recipe, registry: registry, file: file)
        let recorder = RateRecorder()
        let summary = try e.run(directory: directory, recipeText: recipe.json.serialized(), extraCallbacks: [recorder])
        return (recorder, summary)
    }

    @Test(arguments: [#"{"kind": "lr_schedule", "schedule": "one_cycle"}"#,
                      #"{"kind": "lr_schedule", "schedule": "sgdr", "cycle_len": 1, "cycle_mult": 2, "eta_min": 0.0001}"#,
                      #"{"kind": "lr_schedule", "schedule": "cosine"}"#])
    func aResumedRunHasTheSameRateAtEveryLaterStep(schedule: String) throws {
        let data = try SyntheticData.folder(train: .init(count: 80), test: .init(count: 32))
        let file = RecipeFixtures.write(Self.recipe(data, epochs: 4, schedule: schedule))
        let whole = RecipeFixtures.temporaryDirectory("sched-whole")
        let (uninterrupted, wholeSummary) = try run(file, directory: whole)
        #expect(uninterrupted.steps.count == 4 * 5)

        // Resumed at epoch 2 with another base rate in the recipe: the checkpoint's schedule wins.
        let checkpoint = whole.appendingPathComponent("checkpoints/epoch-2.safetensors").path
        let resumedDirectory = RecipeFixtures.temporaryDirectory("sched-resumed")
        let (resumed, resumedSummary) = try run(file, overrides: ["checkpoint.resume=\"\(checkpoint)\"", "optimizer.lr=0.5"],
                                                directory: resumedDirectory)
        #expect(resumed.steps.count == 2 * 5)
        for (key, step) in resumed.steps {
            let expected = try #require(uninterrupted.steps[key])
            #expect(step.lr == expected.lr, "step \(key): \(step.lr) vs \(expected.lr)")
            #expect(step.momentum == expected.momentum, "momentum at step \(key)")
        }
        // And so the same weights: the last epoch's losses are bit for bit the same.
        #expect(resumedSummary.final?.testLoss.bitPattern == wholeSummary.final?.testLoss.bitPattern)
        let metadata = try SafeTensors.metadata(of: whole.appendingPathComponent("checkpoints/epoch-2.safetensors"))
        #expect(metadata["strata.lr_schedule"]?.contains("\"base_lr\":0.01") == true, "\(metadata["strata.lr_schedule"] ?? "none")")
    }

    @Test func sgdrSavesASnapshotAtEachCycleEnd() throws {
        let data = try SyntheticData.folder(train: .init(count: 48), test: .init(count: 16))
        let schedule = #"{"kind": "lr_schedule", "schedule": "sgdr", "cycle_len": 1, "cycle_mult": 2}"#
        let file = RecipeFixtures.write(Self.recipe(data, epochs: 7, schedule: schedule))
        let directory = RecipeFixtures.temporaryDirectory("sgdr")
        let (recorder, _) = try run(file, directory: directory)
        // 7 epochs = cycles of 1 + 2 + 4: restarts at epochs 1, 2 and 4; snapshots at the ends of 1, 3 and 7.
        #expect([1, 2, 4].allSatisfy { recorder.steps["\($0).0"]?.lr == 0.01 })
        #expect(recorder.steps["3.0"]!.lr < 0.01 && recorder.steps["5.0"]!.lr < 0.01)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("checkpoints").path)
        let snapshots = files.filter { $0.hasPrefix("cycle-") && !$0.contains(".optimizer-") }.sorted()
        #expect(snapshots == ["cycle-1.safetensors", "cycle-2.safetensors", "cycle-3.safetensors"], "\(files)")
        for (n, epoch) in [(1, 1), (2, 3), (3, 7)] {
            let metadata = try SafeTensors.metadata(of: directory.appendingPathComponent("checkpoints/cycle-\(n).safetensors"))
            #expect(metadata["strata.epoch"] == "\(epoch)")
        }
        // The snapshot of cycle 3 is the final model: the same tensors as epoch 7's checkpoint.
        let a = try SafeTensors.read(from: directory.appendingPathComponent("checkpoints/cycle-3.safetensors")).tensors
        let b = try SafeTensors.read(from: directory.appendingPathComponent("checkpoints/epoch-7.safetensors")).tensors
        #expect(a.map(\.name) == b.map(\.name))
        for (x, y) in zip(a, b) {
            #expect(Array(UnsafeBufferPointer(start: x.tensor.data, count: x.tensor.count))
                    == Array(UnsafeBufferPointer(start: y.tensor.data, count: y.tensor.count)), "\(x.name)")
        }
    }
}
