import Foundation
import Testing
@testable import StrataCore

/// Data and checkpoints that once trapped, hung or ran silently wrong: each is now refused with
/// exit status 2 and a message naming the file. They run the built `strata` in a child process,
/// so a regression to a trap fails the test instead of killing the suite.
@Suite("Bad input is refused, never a trap or a hang")
struct BadInputRefusalTests {
    /// `strata run` on a fresh recipe over `data`, with overrides.
    func run(data: String, _ overrides: [String] = [], epochs: Int = 1) throws -> BoundedRun {
        let recipe = RecipeFixtures.write(SyntheticData.recipe(data: data, epochs: epochs))
        return try BoundedRun.strata(["run", recipe, "--out", RecipeFixtures.temporaryDirectory("strata-run").path]
                                         + overrides.flatMap { ["--set", $0] })
    }

    @Test func imagesOfAnotherSizeAreRefusedNamingTheFile() throws {
        // 32×32: more bytes per image than the model's 28×28 (a precondition trap before).
        // 14×56: the same byte count in another shape (trained on mis-strided rows before).
        for (height, width) in [(32, 32), (14, 56), (20, 20)] {
            let data = try SyntheticData.folder(train: .init(count: 40, height: height, width: width))
            let r = try run(data: data)
            #expect(r.status == 2 && !r.signaled, "\(height)×\(width): status \(r.status) \(r.err)")
            #expect(r.err == "strata: \(data)/train-images-idx3-ubyte: offset 8: the training images are 1×\(height)×\(width) "
                + "(channels × height × width); the model is built for 1×28×28\n", "\(r.err)")
        }
        // A test split of another size than the training split (and the model).
        let data = try SyntheticData.folder(test: .init(count: 20, height: 27, width: 29))
        let r = try run(data: data)
        #expect(r.status == 2 && r.err.contains("\(data)/t10k-images-idx3-ubyte: offset 8: the test images are 1×27×29"), "\(r.err)")
    }

    @Test func aZeroImageDimensionIsRefused() throws {
        let data = try SyntheticData.folder(train: .init(count: 40, height: 0, width: 28))
        let r = try run(data: data)
        #expect(r.status == 2 && !r.signaled, "status \(r.status) \(r.err)")
        #expect(r.err == "strata: \(data)/train-images-idx3-ubyte: offset 8: the image height is 0; images need at least one pixel\n", "\(r.err)")
    }

    @Test func emptySplitsAreRefused() throws {
        let noTraining = try SyntheticData.folder(train: .init(count: 0))
        let r = try run(data: noTraining)
        #expect(r.status == 2, "status \(r.status): \(r.out) \(r.err)")
        #expect(r.err == "strata: \(noTraining)/train-images-idx3-ubyte: offset 4: the file holds no examples; the training split needs at least one\n", "\(r.err)")
        let noTest = try SyntheticData.folder(test: .init(count: 0))
        let t = try run(data: noTest)
        #expect(t.status == 2 && t.err.contains("t10k-images-idx3-ubyte: offset 4: the file holds no examples; the test split needs at least one"), "\(t.err)")
        // data.classes that keep none of the examples (the test labels here are all 0..<3).
        let few = try SyntheticData.folder(test: .init(count: 3))
        let c = try run(data: few, ["data.classes=[7,8]", "model.layers[4].out_features=2"])
        #expect(c.status == 2 && c.err.contains("$.data.classes: keeps none of the 3 examples of \(few)/t10k-images-idx3-ubyte"), "\(c.err)")
    }

    /// A checkpoint of the tiny recipe at `epoch`, its metadata epoch then replaced by `text`.
    func checkpoint(epochText text: String) throws -> (data: String, path: String) {
        let data = try SyntheticData.folder()
        let out = RecipeFixtures.temporaryDirectory("strata-run")
        let recipe = RecipeFixtures.write(SyntheticData.recipe(data: data, epochs: 1))
        let first = try BoundedRun.strata(["run", recipe, "--out", out.path])
        #expect(first.status == 0, "\(first.err)")
        let path = out.appendingPathComponent("checkpoints/last.safetensors")
        let file = try SafeTensors.read(from: path)
        var metadata = file.metadata
        metadata["strata.epoch"] = text
        // The optimizer file records the same epoch, so only the range check can refuse it.
        for name in try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("checkpoints").path)
            where name.hasPrefix("last.optimizer-") {
            let optimizerURL = out.appendingPathComponent("checkpoints/\(name)")
            let state = try SafeTensors.read(from: optimizerURL)
            var stateMetadata = state.metadata
            stateMetadata["strata.epoch"] = text
            let tensors = state.tensors.map { (name: $0.name, tensor: $0.tensor) }
            try SafeTensors.write(tensors, metadata: stateMetadata, to: optimizerURL)
            metadata["strata.optimizer_sha256"] = SafeTensors.sha256(of: tensors, metadata: stateMetadata)
        }
        try SafeTensors.write(file.tensors.map { (name: $0.name, tensor: $0.tensor) }, metadata: metadata, to: path)
        return (data, path.path)
    }

    @Test func aCheckpointEpochOutOfRangeIsRefused() throws {
        for text in ["9223372036854775807", "99999999999999999999", "-3", "1e3", "", "100001"] {
            let (data, path) = try checkpoint(epochText: text)
            let r = try run(data: data, ["checkpoint.resume=\(path)"], epochs: 3)
            #expect(r.status == 2 && !r.signaled, "epoch \"\(text)\": status \(r.status) \(r.err)")
            #expect(r.err == "strata: \(path): the metadata strata.epoch is \"\(text)\"; expected a whole number of epochs from 0 to 100000\n", "\(r.err)")
        }
        // An epoch at or past the recipe's epochs leaves nothing to train.
        let (data, path) = try checkpoint(epochText: "3")
        let r = try run(data: data, ["checkpoint.resume=\(path)"], epochs: 3)
        #expect(r.status == 2 && r.err.contains("the checkpoint records epoch 3 and the recipe's epochs is 3: nothing is left to train"), "\(r.err)")
    }

    @Test func namedPipesAreRefusedWithoutBlocking() throws {
        let data = try SyntheticData.folder()
        // A FIFO where the training images should be (nothing ever writes to it).
        let images = data + "/train-images-idx3-ubyte"
        try FileManager.default.removeItem(atPath: images)
        #expect(mkfifo(images, 0o600) == 0)
        let r = try run(data: data)
        #expect(!r.timedOut && r.status == 2, "status \(r.status), timed out \(r.timedOut): \(r.err)")
        #expect(r.err == "strata: \(images): is a named pipe (FIFO), not a regular file\n", "\(r.err)")

        // A FIFO as the checkpoint to resume from, and as the one to evaluate.
        let good = try SyntheticData.folder()
        let fifo = try DataTestFiles.makeDirectory() + "/last.safetensors"
        #expect(mkfifo(fifo, 0o600) == 0)
        let resume = try run(data: good, ["checkpoint.resume=\(fifo)"], epochs: 2)
        #expect(!resume.timedOut && resume.status == 2 && resume.err == "strata: \(fifo): is a named pipe (FIFO), not a regular file\n", "\(resume.err)")
        let recipe = RecipeFixtures.write(SyntheticData.recipe(data: good))
        let eval = try BoundedRun.strata(["eval", recipe, "--checkpoint", fifo])
        #expect(!eval.timedOut && eval.status == 2 && eval.err.contains("\(fifo): is a named pipe (FIFO), not a regular file"), "\(eval.err)")

        // A FIFO as the recipe, and as a plugin manifest on the plugin path.
        let fifoRecipe = try DataTestFiles.makeDirectory() + "/recipe.json"
        #expect(mkfifo(fifoRecipe, 0o600) == 0)
        let s = try BoundedRun.strata(["summary", fifoRecipe])
        #expect(!s.timedOut && s.status == 2 && s.err == "strata: \(fifoRecipe): cannot read the recipe: is a named pipe (FIFO), not a regular file\n", "\(s.err)")
        let plugins = try DataTestFiles.makeDirectory()
        try FileManager.default.createDirectory(atPath: plugins + "/odd", withIntermediateDirectories: true)
        #expect(mkfifo(plugins + "/odd/plugin.json", 0o600) == 0)
        let p = try BoundedRun.strata(["plugins"], environment: ["STRATA_PLUGIN_PATH": plugins])
        #expect(!p.timedOut && p.out.contains("cannot read the manifest: is a named pipe (FIFO), not a regular file"), "\(p.out) \(p.err)")
    }

    @Test func nonFiniteCheckpointsAreRefusedUnlessAllowed() throws {
        let data = try SyntheticData.folder()
        let out = RecipeFixtures.temporaryDirectory("strata-run")
        let recipe = RecipeFixtures.write(SyntheticData.recipe(data: data, epochs: 1))
        #expect(try BoundedRun.strata(["run", recipe, "--out", out.path]).status == 0)
        let path = out.appendingPathComponent("checkpoints/last.safetensors")
        let file = try SafeTensors.read(from: path)
        let weight = try #require(file.tensors.first { $0.name == "4.weight" })
        weight.tensor[17] = .nan
        try SafeTensors.write(file.tensors.map { (name: $0.name, tensor: $0.tensor) }, metadata: file.metadata, to: path)

        let eval = try BoundedRun.strata(["eval", recipe, "--checkpoint", path.path])
        #expect(eval.status == 2)
        #expect(eval.err == "strata: \(path.path): tensor '4.weight' holds nan at element 17 of \(weight.tensor.count); "
            + "a checkpoint with non-finite values is refused (\"checkpoint\": {\"allow_non_finite\": true} loads it anyway)\n", "\(eval.err)")
        let allowed = try BoundedRun.strata(["eval", recipe, "--checkpoint", path.path, "--set", "checkpoint.allow_non_finite=true"])
        #expect(allowed.status == 0, "\(allowed.err)")
        let resume = try run(data: data, ["checkpoint.resume=\(path.path)"], epochs: 2)
        #expect(resume.status == 2 && resume.err.contains("tensor '4.weight' holds nan at element 17"), "\(resume.err)")
    }
}
