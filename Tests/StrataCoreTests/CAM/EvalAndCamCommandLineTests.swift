import Foundation
import Testing
@testable import StrataCore

/// `strata eval --tta` and `strata cam` end to end: a short small-ResNet run on a Fashion-MNIST
/// slice, then both commands on its checkpoint, and their refusals (exit status 2).
@Suite("strata eval --tta and strata cam", .enabled(if: RecipeFixtures.hasFashionMNIST))
struct EvalAndCamCommandLineTests {
    static let recipe: String = {
        let dir = RecipeFixtures.temporaryDirectory("eval-cam-recipe")
        let url = dir.appendingPathComponent("recipe.json")
        let text = """
        {"name": "eval-cam", "seed": 3, "epochs": 1, "batch_size": 64,
         "data": {"dataset": "fashion-mnist", "train_limit": 640, "test_limit": 192,
                  "normalize": {"mean": [0.286], "std": [0.353]}},
         "model": {"kind": "resnet_small"},
         "optimizer": {"kind": "adam", "lr": 0.001},
         "loss": {"kind": "cross_entropy"}}
        """
        try? text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }()

    static let image = Bundle.module.url(forResource: "grey", withExtension: "png", subdirectory: "Fixtures/images")?.path
        ?? "Tests/StrataCoreTests/Fixtures/images/grey.png"

    /// Trains once and returns the run directory.
    func trainedRun() throws -> URL {
        let out = RecipeFixtures.temporaryDirectory("eval-cam-run")
        let r = try runStrata(["run", Self.recipe, "--out", out.path])
        #expect(r.status == 0, "\(r.err)")
        return out
    }

    @Test func ttaReportsPlainFiguresEqualToTheRunsAndAveragedOnes() throws {
        let run = try trainedRun()
        let checkpoint = run.appendingPathComponent("checkpoints/last.safetensors").path
        let r = try runStrata(["eval", Self.recipe, "--checkpoint", checkpoint, "--tta", "--json"])
        #expect(r.status == 0, "\(r.err)")
        let o = try #require(JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let plain = try #require(o["plain"] as? [String: Double]), tta = try #require(o["tta"] as? [String: Double])
        #expect(o["views"] as? Int == 6)
        #expect(o["examples"] as? Int == 192)
        // The plain pass is the run's own evaluation of the same checkpoint.
        let log = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        let last = try #require(log.split(separator: "\n").last)
        let metrics = try #require(JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        let testLoss = try #require(metrics["test_loss"] as? Double)
        #expect(abs(try #require(plain["log_loss"]) - testLoss) < 1e-4 * max(1, testLoss))
        let accuracy = try #require(tta["accuracy"]), loss = try #require(tta["log_loss"])
        #expect(accuracy >= 0 && accuracy <= 1 && loss.isFinite && loss > 0)
        #expect(loss != plain["log_loss"], "six views averaged gave exactly the plain log loss")
    }

    @Test func camWritesAPictureAndRefusesBadInput() throws {
        let run = try trainedRun()
        let checkpoint = run.appendingPathComponent("checkpoints/last.safetensors").path
        let outDir = RecipeFixtures.temporaryDirectory("eval-cam-maps")
        let r = try runStrata(["cam", Self.recipe, "--checkpoint", checkpoint, Self.image, "--out", outDir.path])
        #expect(r.status == 0, "\(r.err)")
        let png = try Data(contentsOf: outDir.appendingPathComponent("grey-cam.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "not a PNG")
        let badClass = try runStrata(["cam", Self.recipe, "--checkpoint", checkpoint, Self.image, "--class", "10", "--out", outDir.path])
        #expect(badClass.status == 2, "\(badClass.err)")
        let notImage = try runStrata(["cam", Self.recipe, "--checkpoint", checkpoint, Self.recipe, "--out", outDir.path])
        #expect(notImage.status == 2)
        #expect(notImage.err.contains("recipe.json"), "\(notImage.err)")
    }
}
