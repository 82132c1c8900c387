import Foundation
import Testing
@testable import StrataCore

@Suite("End-to-end training on real Fashion-MNIST", .serialized)
struct TrainingEndToEndTests {
    @Test(.enabled(if: RecipeFixtures.hasFashionMNIST, "needs Debian's dataset-fashion-mnist"))
    func smallNetworkLearnsAndCheckpointsRoundTrip() throws {
        let registry = ComponentRegistry.builtIn()
        let file = RecipeFixtures.write(RecipeFixtures.smallCNN)
        let recipe = try Recipe.load(file: file, registry: registry)
        let experiment = try Experiment(recipe: recipe, registry: registry, file: file)
        let directory = RecipeFixtures.temporaryDirectory("strata-run")
        let summary = try experiment.run(directory: directory, recipeText: recipe.json.serialized())

        // Learns: chance is 0.10; this network reaches about 0.75 on 2000 test images.
        let last = try #require(summary.final)
        #expect(summary.records.count == 2)
        #expect(last.testAccuracy > 0.6, "test accuracy \(last.testAccuracy)")
        #expect(summary.records[1].trainLoss < summary.records[0].trainLoss)

        // The run directory has what the CLI contract promises.
        let metrics = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        let lines = metrics.split(separator: "\n")
        #expect(lines.count == 2)
        let first = try JSONParser.parse(String(lines[0]))
        for key in ["epoch", "train_loss", "train_acc", "test_acc", "examples_per_s"] {
            #expect(first[key]?.numberValue != nil, "metrics.jsonl lacks \(key)")
        }
        let summaryJSON = try JSONParser.parse(String(contentsOf: directory.appendingPathComponent("summary.json"), encoding: .utf8))
        for key in ["test_acc", "train_time_s", "examples_per_s", "peak_rss_bytes"] {
            #expect(summaryJSON[key]?.numberValue != nil, "summary.json lacks \(key)")
        }
        #expect(summaryJSON["test_acc"]?.numberValue == last.testAccuracy)

        // Curves for both epochs: two points per line.
        let svg = try String(contentsOf: directory.appendingPathComponent("plots/accuracy.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.components(separatedBy: "<polyline").count == 3)
        #expect(svg.components(separatedBy: "<circle").count == 5)

        // The last checkpoint reproduces the final test accuracy in a freshly built model.
        let checkpoint = directory.appendingPathComponent("checkpoints/last.safetensors")
        let fresh = try Experiment(recipe: recipe, registry: registry, file: file)
        let epoch = try Checkpointer(model: fresh.model, optimizer: nil).load(from: checkpoint, optimizerState: false)
        #expect(epoch == 2)
        let evaluated = try fresh.evaluate()
        #expect(abs(evaluated.accuracy - last.testAccuracy) < 1e-9)
        // keep_last 1: only the newest epoch file is kept.
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("checkpoints").path)
        #expect(files.contains("epoch-2.safetensors") && !files.contains("epoch-1.safetensors"), "\(files)")
    }

    @Test(.enabled(if: RecipeFixtures.hasFashionMNIST, "needs Debian's dataset-fashion-mnist"))
    func logSoftmaxThenNLLTrainsLikeCrossEntropy() throws {
        let registry = ComponentRegistry.builtIn()
        let text = RecipeFixtures.smallCNN.replacingOccurrences(of: "\"train_limit\": 8000", with: "\"train_limit\": 1500")
        let file = RecipeFixtures.write(text)
        let sgd = #"optimizer={"kind": "sgd", "lr": 0.05, "momentum": 0.9}"#
        let ce = try Experiment(recipe: try Recipe.load(file: file, overrides: ["epochs=1", sgd], registry: registry), registry: registry)
            .run(directory: nil, recipeText: "")
        let nllFile = RecipeFixtures.write(text.replacingOccurrences(
            of: "{\"kind\": \"linear\", \"out_features\": 10}]", with: "{\"kind\": \"linear\", \"out_features\": 10}, {\"kind\": \"log_softmax\"}]"))
        let nllRecipe = try Recipe.load(file: nllFile, overrides: ["epochs=1", sgd, "loss={\"kind\": \"nll\"}"], registry: registry)
        #expect(nllRecipe.json["model"]?["layers"]?.arrayValue?.count == 10)
        let nll = try Experiment(recipe: nllRecipe, registry: registry).run(directory: nil, recipeText: "")
        // Both paths agree to rounding, so after an epoch they must agree closely. SGD keeps
        // them together: Adam divides by sqrt(v) + 1e-8, which turns rounding noise in near-zero
        // gradients into full-sized steps and lets two runs drift apart by chance.
        let (a, b) = (nll.records[0], ce.records[0])
        #expect(abs(a.trainLoss - b.trainLoss) < 1e-5, "\(a.trainLoss) vs \(b.trainLoss)")
        #expect(abs(a.testLoss - b.testLoss) < 1e-4, "\(a.testLoss) vs \(b.testLoss)")
        #expect(abs(a.testAccuracy - b.testAccuracy) <= 0.002, "\(a.testAccuracy) vs \(b.testAccuracy)")
    }

    @Test(.enabled(if: RecipeFixtures.hasFashionMNIST, "needs Debian's dataset-fashion-mnist"))
    func parameterGroupsSetDifferentialLearningRates() throws {
        let registry = ComponentRegistry.builtIn()
        let file = RecipeFixtures.write(RecipeFixtures.smallCNN)
        let recipe = try Recipe.load(file: file, overrides: [
            "epochs=1", "data.train_limit=512", "data.test_limit=256",
            #"optimizer.param_groups=[{"match": "0", "lr_mult": 0}, {"match": "4.body", "lr_mult": 0.5, "weight_decay": 0.1}]"#,
        ], registry: registry)
        let experiment = try Experiment(recipe: recipe, registry: registry)
        let slots = Dictionary(uniqueKeysWithValues: experiment.slots.map { ($0.name, $0) })
        #expect(slots["0.weight"]?.learningRateMultiplier == 0 && slots["0.bias"]?.learningRateMultiplier == 0)
        #expect(slots["4.body.0.weight"]?.learningRateMultiplier == 0.5 && slots["4.body.0.weight"]?.weightDecay == 0.1)
        #expect(slots["8.weight"]?.learningRateMultiplier == 1 && slots["8.weight"]?.weightDecay == 0)
        let before = Dictionary(uniqueKeysWithValues: experiment.model.trainableParameters.map { ($0.name, $0.parameter.value.array()) })
        _ = try experiment.run(directory: nil, recipeText: "")
        let after = Dictionary(uniqueKeysWithValues: experiment.model.trainableParameters.map { ($0.name, $0.parameter.value.array()) })
        // lr_mult 0 (fast.ai's frozen layer group): the first convolution does not move.
        #expect(after["0.weight"] == before["0.weight"])
        #expect(after["4.body.0.weight"] != before["4.body.0.weight"])
        #expect(after["8.weight"] != before["8.weight"])
    }

    @Test(.enabled(if: RecipeFixtures.hasFashionMNIST, "needs Debian's dataset-fashion-mnist"))
    func resumingContinuesFromTheCheckpoint() throws {
        let registry = ComponentRegistry.builtIn()
        let file = RecipeFixtures.write(RecipeFixtures.smallCNN)
        // Two epochs straight...
        let straight = try Experiment(recipe: try Recipe.load(file: file, overrides: ["data.train_limit=2000"], registry: registry),
                                      registry: registry, file: file)
        let dirA = RecipeFixtures.temporaryDirectory("strata-run")
        let a = try straight.run(directory: dirA, recipeText: "")
        // ...against one epoch, then a resumed second epoch from its checkpoint.
        let first = try Experiment(recipe: try Recipe.load(file: file, overrides: ["data.train_limit=2000", "epochs=1"], registry: registry),
                                   registry: registry, file: file)
        let dirB = RecipeFixtures.temporaryDirectory("strata-run")
        _ = try first.run(directory: dirB, recipeText: "")
        let resume = dirB.appendingPathComponent("checkpoints/last.safetensors").path
        let second = try Experiment(recipe: try Recipe.load(file: file, overrides: ["data.train_limit=2000", "checkpoint.resume=\(resume)"],
                                                            registry: registry), registry: registry, file: file)
        let b = try second.run(directory: RecipeFixtures.temporaryDirectory("strata-run"), recipeText: "")
        #expect(b.records.count == 1 && b.records[0].epoch == 2)
        // Same data order (seeded per epoch), same weights and Adam state: the same second epoch,
        // up to the dropout stream, which restarts with the process.
        #expect(abs(b.records[0].trainLoss - a.records[1].trainLoss) < 0.05, "\(b.records[0].trainLoss) vs \(a.records[1].trainLoss)")
    }
}
