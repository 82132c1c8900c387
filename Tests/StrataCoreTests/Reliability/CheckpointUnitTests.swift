import Foundation
import Testing
@testable import StrataCore

/// A checkpoint's model and optimizer state are one unit: a resume sees both of one save or
/// refuses, naming both files and their epochs; a run killed at any moment resumes to the
/// figures of an uninterrupted run.
@Suite("Checkpoints are one unit", .serialized)
struct CheckpointUnitTests {
    /// Trains the tiny recipe for `epochs` into a fresh run directory; returns it.
    func trainedRun(data: String, epochs: Int) throws -> URL {
        let out = RecipeFixtures.temporaryDirectory("strata-run")
        let r = try BoundedRun.strata(["run", RecipeFixtures.write(SyntheticData.recipe(data: data, epochs: epochs)), "--out", out.path])
        #expect(r.status == 0, "\(r.err)")
        return out.appendingPathComponent("checkpoints")
    }

    /// A checkpointer over a fresh model and Adam of the tiny recipe.
    func checkpointer(data: String) throws -> Checkpointer {
        let registry = ComponentRegistry.builtIn()
        let recipe = try Recipe.load(file: RecipeFixtures.write(SyntheticData.recipe(data: data)), registry: registry)
        let experiment = try Experiment(recipe: recipe, registry: registry)
        return Checkpointer(model: experiment.model, optimizer: experiment.optimizer)
    }

    func optimizerFiles(_ folder: URL, _ base: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(base + ".optimizer") }.sorted()
    }

    func badInput(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let error as CoreError { return error.description } catch { return "\(error)" }
    }

    @Test func aSaveWritesOnePairAndLoadingRestoresBoth() throws {
        let data = try SyntheticData.folder()
        let folder = try trainedRun(data: data, epochs: 2)
        // keep_last 2: epoch-1 and epoch-2, each with the one optimizer file its model file names; last the same.
        for base in ["epoch-1", "epoch-2", "last"] {
            let files = try optimizerFiles(folder, base)
            #expect(files.count == 1, "\(base): \(files)")
            let metadata = try SafeTensors.metadata(of: folder.appendingPathComponent("\(base).safetensors"))
            #expect(metadata["strata.optimizer_file"] == files.first && metadata["strata.optimizer"] == "adam")
        }
        let last = folder.appendingPathComponent("last.safetensors")
        let c = try checkpointer(data: data)
        #expect(try c.load(from: last, optimizerState: true) == 2)
        let saved = try SafeTensors.read(from: folder.appendingPathComponent(try optimizerFiles(folder, "last")[0]))
        let restored = Dictionary(uniqueKeysWithValues: try #require(c.optimizer).stateTensors().map { ($0.name, $0.tensor) })
        #expect(saved.tensors.count == restored.count && saved.tensors.count > 0)
        for t in saved.tensors {
            let r = try #require(restored[t.name])
            #expect((0..<t.tensor.count).allSatisfy { r[$0] == t.tensor[$0] }, "\(t.name)")
        }
        // Saving again over `last` leaves one optimizer file, and a file of another checkpoint
        // (epoch-1's) is untouched.
        try c.save(to: last, epoch: 2)
        #expect(try optimizerFiles(folder, "last").count == 1)
        #expect(try optimizerFiles(folder, "epoch-1").count == 1)
    }

    @Test func aMixedPairIsRefusedNamingBothFilesAndEpochs() throws {
        let data = try SyntheticData.folder()
        let one = try trainedRun(data: data, epochs: 1), two = try trainedRun(data: data, epochs: 2)
        let c = try checkpointer(data: data)
        let model = one.appendingPathComponent("last.safetensors")

        // The optimizer file the model file names holds another save's state.
        let named = one.appendingPathComponent(try optimizerFiles(one, "last")[0])
        try FileManager.default.removeItem(at: named)
        try FileManager.default.copyItem(at: two.appendingPathComponent(try optimizerFiles(two, "last")[0]), to: named)
        let swapped = badInput { try c.load(from: model, optimizerState: true) }
        #expect(swapped == "\(model.path) (epoch 1) and \(named.path) (epoch 2) were written by different saves "
            + "(its SHA-256 is not the one the model file records): they are not one checkpoint, so the run does not resume "
            + "from them (a checkpoint is written whole at each epoch end: use another one, or a recipe with another optimizer "
            + "kind to start its state afresh)", "\(swapped ?? "loaded")")
        // ...or is missing.
        try FileManager.default.removeItem(at: named)
        let missing = badInput { try c.load(from: model, optimizerState: true) }
        #expect(missing?.hasPrefix("\(model.path) (epoch 1) and \(named.path) (missing): they are not one checkpoint") == true, "\(missing ?? "loaded")")
        // Evaluation reads the model file alone.
        #expect(try c.load(from: model, optimizerState: false) == 1)

        // The older layout (name.optimizer.safetensors, no reference): epochs that differ are refused.
        let legacyFolder = try DataTestFiles.makeDirectory()
        let legacyModel = URL(fileURLWithPath: legacyFolder + "/last.safetensors")
        let legacyState = URL(fileURLWithPath: legacyFolder + "/last.optimizer.safetensors")
        var metadata = try SafeTensors.metadata(of: two.appendingPathComponent("last.safetensors"))
        for key in ["strata.optimizer", "strata.optimizer_file", "strata.optimizer_sha256"] { metadata[key] = nil }
        let tensors = try SafeTensors.read(from: two.appendingPathComponent("last.safetensors")).tensors.map { (name: $0.name, tensor: $0.tensor) }
        try SafeTensors.write(tensors, metadata: metadata, to: legacyModel)
        let stale = try SafeTensors.read(from: one.appendingPathComponent(try optimizerFiles(one, "epoch-1")[0]))
        try SafeTensors.write(stale.tensors.map { (name: $0.name, tensor: $0.tensor) }, metadata: stale.metadata, to: legacyState)
        let legacy = badInput { try c.load(from: legacyModel, optimizerState: true) }
        #expect(legacy?.hasPrefix("\(legacyModel.path) (epoch 2) and \(legacyState.path) (epoch 1) were written at different epochs") == true,
                "\(legacy ?? "loaded")")
        // A model file of the older layout whose optimizer file is gone: refused, not a fresh state.
        try FileManager.default.removeItem(at: legacyState)
        let alone = badInput { try c.load(from: legacyModel, optimizerState: true) }
        #expect(alone?.hasPrefix("\(legacyModel.path) (epoch 2) and \(legacyState.path) (missing)") == true, "\(alone ?? "loaded")")
    }

    @Test func anAdamStepCountOutOfRangeIsRefused() throws {
        // A step count a Float holds but an Int64 conversion would trap on (or a NaN one, when
        // non-finite values are allowed), in the older layout, which carries no digest.
        let data = try SyntheticData.folder()
        let run = try trainedRun(data: data, epochs: 1)
        let folder = try DataTestFiles.makeDirectory()
        let model = URL(fileURLWithPath: folder + "/last.safetensors")
        var metadata = try SafeTensors.metadata(of: run.appendingPathComponent("last.safetensors"))
        for key in ["strata.optimizer", "strata.optimizer_file", "strata.optimizer_sha256"] { metadata[key] = nil }
        let tensors = try SafeTensors.read(from: run.appendingPathComponent("last.safetensors")).tensors.map { (name: $0.name, tensor: $0.tensor) }
        try SafeTensors.write(tensors, metadata: metadata, to: model)
        let state = try SafeTensors.read(from: run.appendingPathComponent(try optimizerFiles(run, "last")[0]))
        for bad: Float in [1e30, -1, 2.5, .nan] {
            let step = try #require(state.tensors.first { $0.name == "0.weight.step" })
            step.tensor[0] = bad
            try SafeTensors.write(state.tensors.map { (name: $0.name, tensor: $0.tensor) }, metadata: state.metadata,
                                  to: URL(fileURLWithPath: folder + "/last.optimizer.safetensors"))
            let c = try checkpointer(data: data)
            let refusal = badInput { try c.load(from: model, optimizerState: true, allowNonFinite: true) }
            #expect(refusal == "\(model.path) (optimizer state): adam state: 0.weight.step is \(bad); expected a whole number of steps from 0 to 16777216",
                    "\(refusal ?? "loaded")")
        }
    }

    /// The figures of the final epoch in a run directory's metrics.jsonl (timings left out).
    func finalFigures(_ run: URL) throws -> [String] {
        let text = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        let last = try JSONParser.parse(String(try #require(text.split(separator: "\n").last)))
        return ["epoch", "train_loss", "train_acc", "test_loss", "test_acc", "lr"].map { last[$0]?.serialized(pretty: false) ?? "?" }
    }

    @Test func aRunKilledAtAnyMomentResumesToTheSameFigures() throws {
        // 75 batches per epoch, so that kills by the clock land inside epochs too.
        let data = try SyntheticData.folder(train: .init(count: 1200))
        let epochs = 3
        let recipe = RecipeFixtures.write(SyntheticData.recipe(data: data, epochs: epochs))
        let reference = RecipeFixtures.temporaryDirectory("strata-run")
        let started = Date()
        let straight = try BoundedRun.strata(["run", recipe, "--out", reference.path])
        let duration = Date().timeIntervalSince(started)
        #expect(straight.status == 0, "\(straight.err)")
        let expected = try finalFigures(reference)
        #expect(expected[0] == "\(epochs)")

        // Each save takes two steps (after the optimizer file; after the model file), two saves
        // per epoch (epoch-<n>, last): every boundary between the writes of every checkpoint;
        // then kills by the clock, spread over the second half of a run's duration (the first
        // is mostly start-up), which land inside epochs or during writes.
        let points: [(step: Int?, after: Double?)] = (1...(4 * epochs)).map { ($0, nil) }
            + stride(from: 0.5, through: 0.95, by: 0.075).map { (nil, duration * $0) }
        var killedByClock = 0
        for point in points {
            let killed = RecipeFixtures.temporaryDirectory("strata-run")
            let environment = point.step.map { ["STRATA_TEST_KILL_AT_CHECKPOINT_STEP": "\($0)"] } ?? [:]
            let r = try BoundedRun.strata(["run", recipe, "--out", killed.path], environment: environment, killAfter: point.after)
            if point.step != nil { #expect(r.signaled && r.status == SIGKILL, "step \(point.step!): status \(r.status) \(r.err)") }
            if point.after != nil, r.signaled { killedByClock += 1 }
            let last = killed.appendingPathComponent("checkpoints/last.safetensors")
            var figures: [String]
            if !FileManager.default.fileExists(atPath: last.path) {
                // Killed before the first checkpoint: start again.
                let again = RecipeFixtures.temporaryDirectory("strata-run")
                let rerun = try BoundedRun.strata(["run", recipe, "--out", again.path])
                #expect(rerun.status == 0, "\(rerun.err)")
                figures = try finalFigures(again)
            } else if try SafeTensors.metadata(of: last)["strata.epoch"] == "\(epochs)" {
                figures = try finalFigures(killed) // killed after the last epoch's checkpoint
            } else {
                let resumed = RecipeFixtures.temporaryDirectory("strata-run")
                let rerun = try BoundedRun.strata(["run", recipe, "--out", resumed.path, "--set", "checkpoint.resume=\(last.path)"])
                #expect(rerun.status == 0, "killed at \(point): the resume failed: \(rerun.err)")
                figures = try finalFigures(resumed)
            }
            #expect(figures == expected, "killed at \(point): \(figures) vs \(expected)")
        }
        // How many kills by the clock land inside the run depends on the machine's load, so it is
        // not asserted: the kills at every write step above are the deterministic part.
        _ = killedByClock
    }
}
