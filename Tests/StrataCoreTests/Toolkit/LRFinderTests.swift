import Foundation
import Testing
@testable import StrataCore

@Suite("LR finder", .serialized)
struct LRFinderTests {
    /// A small CNN with BatchNorm (running statistics) and dropout (a random stream), trained
    /// with Adam (optimizer state) on synthetic data, on one thread.
    static func recipe(_ data: String) -> String {
        """
        {"name": "lrfind", "seed": 3, "epochs": 2, "batch_size": 16,
         "data": {"dataset": "fashion-mnist", "path": "\(data)", "augment": {"flip": true}},
         "model": {"kind": "sequential", "layers": [
           {"kind": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2},
           {"kind": "batchnorm2d"}, {"kind": "relu"}, {"kind": "flatten"},
           {"kind": "dropout", "p": 0.2},
           {"kind": "linear", "out_features": 10}]},
         "optimizer": {"kind": "adam", "lr": 0.01},
         "callbacks": []}
        """
    }

    func experiment(_ file: String, _ registry: ComponentRegistry) throws -> Experiment {
        try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
    }

    func parameters(_ e: Experiment) -> [[Float]] {
        e.model.namedParameters.map { Array(UnsafeBufferPointer(start: $0.parameter.value.data, count: $0.parameter.value.count)) }
    }

    @Test func aRunAfterTheSweepIsBitForBitTheRunWithoutIt() throws {
        let data = try SyntheticData.folder(train: .init(count: 160), test: .init(count: 48))
        let registry = ComponentRegistry.builtIn()
        let file = RecipeFixtures.write(Self.recipe(data))

        let plain = try experiment(file, registry)
        let before = parameters(plain)
        let expected = try plain.run(directory: nil, recipeText: "")

        let swept = try experiment(file, registry)
        #expect(parameters(swept) == before)
        let result = try LRFinder(options: .init(start: 1e-5, end: 10, steps: 60)).run(swept, train: try swept.loadData().train)
        // The sweep trained: it has points at growing rates and moved the loss.
        #expect(result.points.count >= 10)
        #expect(zip(result.points, result.points.dropFirst()).allSatisfy { $0.learningRate < $1.learningRate })
        #expect(Set(result.points.map(\.loss)).count > 1)
        #expect(parameters(swept) == before, "the sweep left the weights or BatchNorm statistics changed")
        #expect(swept.optimizer.stateTensors().isEmpty && swept.optimizer.learningRate == 0.01)
        let actual = try swept.run(directory: nil, recipeText: "")

        #expect(actual.records.count == expected.records.count)
        for (a, b) in zip(actual.records, expected.records) {
            #expect(a.trainLoss.bitPattern == b.trainLoss.bitPattern, "epoch \(a.epoch) train loss \(a.trainLoss) vs \(b.trainLoss)")
            #expect(a.testLoss.bitPattern == b.testLoss.bitPattern, "epoch \(a.epoch) test loss \(a.testLoss) vs \(b.testLoss)")
            #expect(a.trainAccuracy == b.trainAccuracy && a.testAccuracy == b.testAccuracy)
        }
        #expect(parameters(swept) == parameters(plain))
    }

    /// The recipe with SGD and momentum (Adam would undo a global rescaling of the gradients),
    /// a parameter group, weight decay and, when given, gradient clipping.
    static func sgdRecipe(_ data: String, clip: String?) -> String {
        let optimizer = #""optimizer": {"kind": "sgd", "lr": 0.01, "momentum": 0.9, "weight_decay": 0.0005, "param_groups": [{"match": "5", "lr_mult": 0.5}]},"#
        return recipe(data).replacingOccurrences(of: #""optimizer": {"kind": "adam", "lr": 0.01},"#,
                                                 with: optimizer + (clip.map { #""gradient_clip": \#($0),"# } ?? ""))
    }

    @Test func theSweepTakesTheRunsStepSoClippingAppliesAndItStillLeavesNoTrace() throws {
        let data = try SyntheticData.folder(train: .init(count: 160), test: .init(count: 48))
        let registry = ComponentRegistry.builtIn()
        let options = LRFinder.Options(start: 1e-3, end: 100, steps: 40)
        let plain = try LRFinder(options: options).run(try experiment(RecipeFixtures.write(Self.sgdRecipe(data, clip: nil)), registry))
        let clippedFile = RecipeFixtures.write(Self.sgdRecipe(data, clip: #"{"max_norm": 0.01}"#))
        let fresh = try experiment(clippedFile, registry)
        let expected = try fresh.run(directory: nil, recipeText: "")
        let swept = try experiment(clippedFile, registry)
        let before = parameters(swept)
        let clipped = try LRFinder(options: options).run(swept)

        // The first batch's loss comes before any step; from the second on the clipped steps differ.
        #expect(plain.points[0].loss == clipped.points[0].loss)
        #expect(plain.points[1].loss != clipped.points[1].loss)
        // The norm before clipping is recorded with clipping only, and written to the CSV.
        #expect(plain.points.allSatisfy { $0.gradientNorm.isNaN })
        #expect(clipped.points.allSatisfy { $0.gradientNorm.isFinite && $0.gradientNorm > 0.01 })
        #expect(clipped.csv.hasPrefix("step,lr,loss,smoothed_loss,grad_norm\n") && plain.csv.hasPrefix("step,lr,loss,smoothed_loss\n"))
        // Steps of at most lr · 0.01 in norm reach a higher rate before the loss diverges.
        #expect(plain.stopReason != nil, "the unclipped sweep diverges")
        #expect(clipped.points.count > plain.points.count, "clipped \(clipped.points.count) points, plain \(plain.points.count)")

        #expect(parameters(swept) == before)
        let actual = try swept.run(directory: nil, recipeText: "")
        #expect(actual.records.count == expected.records.count)
        for (a, b) in zip(actual.records, expected.records) {
            #expect(a.trainLoss.bitPattern == b.trainLoss.bitPattern && a.testLoss.bitPattern == b.testLoss.bitPattern, "epoch \(a.epoch)")
        }
        #expect(parameters(swept) == parameters(fresh))
    }

    @Test(.enabled(if: RecipeFixtures.hasFashionMNIST, "needs Debian's dataset-fashion-mnist"))
    func aPluginSchemeIsRefusedAtItsPathAndTheCLIExitsTwo() throws {
        let registry = try ShippedPlugins.registry()
        let text = BoostResNetSchemeTests.recipe(scheme: #"{"kind": "boostresnet", "check_every": 20, "max_iters": 20}"#, train: 200, test: 100)
        let file = RecipeFixtures.write(text)
        let e = try experiment(file, registry)
        #expect {
            _ = try LRFinder(options: .init()).run(e)
        } throws: { error in
            guard case let .badInput(place, message)? = error as? CoreError else { return false }
            return place == .jsonPath("$.scheme") && message.contains("\"boostresnet\"")
        }
        let run = try BoundedRun.strata(["lr-find", file, "--steps", "5", "--out", RecipeFixtures.temporaryDirectory("lrfind-scheme").path])
        #expect(run.status == 2 && !run.signaled, "\(run.status) \(run.err)")
        // activation_stats hooks the recipe's model, which a scheme does not train.
        let stats = text.replacingOccurrences(of: #""scheme":"#, with: #""callbacks": [{"kind": "activation_stats", "layers": ["stem"]}], "scheme":"#)
        #expect {
            try Recipe.load(file: RecipeFixtures.write(stats), registry: registry)
        } throws: { error in
            (error as? RecipeValidationError)?.errors.contains { $0.path == "$.callbacks[0]" && $0.message.contains("activation_stats") } == true
        }
    }

    @Test func withoutTheSnapshotTheDropoutStreamAndWeightsWouldDiffer() throws {
        // The restore is what makes the test above pass: the sweep does change what it restores.
        let data = try SyntheticData.folder(train: .init(count: 64), test: .init(count: 16))
        let registry = ComponentRegistry.builtIn()
        let e = try experiment(RecipeFixtures.write(Self.recipe(data)), registry)
        let dropout = try #require(e.model.root.descendantsAndSelf.compactMap { $0 as? Dropout }.first)
        let before = parameters(e)
        let snapshot = TrainingSnapshot(e.model)
        _ = try LRFinder(options: .init(start: 1e-4, end: 1, steps: 8)).run(e, train: try e.loadData().train)
        #expect(dropout.randomState == 0 && parameters(e) == before)
        // A sweep's effects, undone by hand: train a few steps outside the finder.
        let trainer = Trainer(model: e.model, loss: e.loss, optimizer: try e.recipe.optimizer.make(), slots: e.slots,
                              train: try BatchLoader(dataset: e.loadData().train, batchSize: 16, mode: .training(seed: 1)),
                              test: nil, epochs: 1)
        try trainer.fit()
        #expect(dropout.randomState == 4 && parameters(e) != before)
        snapshot.restore()
        #expect(dropout.randomState == 0 && parameters(e) == before)
    }

    @Test func ratesGrowExponentiallyAndTheSuggestionIsTheSteepestDescent() throws {
        let options = LRFinder.Options(start: 1e-6, end: 1, steps: 7)
        let rates = (0..<7).map { LRFinder.rate(step: $0, options: options) }
        for (i, r) in rates.enumerated() { #expect(abs(r / pow(10, Double(i - 6)) - 1) < 1e-12) }
        // Smoothed losses 2.0, 1.9, 1.5, 0.7, 0.6, 0.9, 5: steepest fall per decade between 1e-4 and 1e-3.
        let losses = [2.0, 1.9, 1.5, 0.7, 0.6, 0.9, 5]
        let points = zip(rates, losses).enumerated().map { LRFinder.Point(step: $0.offset, learningRate: $0.element.0, loss: $0.element.1, smoothedLoss: $0.element.1) }
        let (suggestion, rule) = LRFinder.suggest(points)
        #expect(abs(suggestion / 1e-3 - 1) < 1e-12, "\(suggestion)")
        #expect(rule.contains("steepest"))
        // Too few points before the minimum: a tenth of the minimum's rate.
        #expect(abs(LRFinder.suggest(Array(points.prefix(2))).0 / 1e-6 - 1) < 1e-9)
    }

    @Test func theCurveIsWrittenAsCSVAndALogScaleSVG() throws {
        let points = (0..<5).map { LRFinder.Point(step: $0, learningRate: pow(10, Double($0 - 4)), loss: 2 - Double($0) * 0.1, smoothedLoss: 2 - Double($0) * 0.1) }
        let result = LRFinder.Result(points: points, suggestion: 1e-2, rule: "test", stopReason: nil)
        let directory = RecipeFixtures.temporaryDirectory("lrfind")
        try result.write(to: directory)
        let csv = try String(contentsOf: directory.appendingPathComponent("lr_find.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 6)
        #expect(csv.split(separator: "\n")[1] == "0,0.0001,2.0,2.0")
        let svg = try String(contentsOf: directory.appendingPathComponent("lr_find.svg"), encoding: .utf8)
        for decade in -4...0 { #expect(svg.contains(">1e\(decade)<"), "tick 1e\(decade)") }
        #expect(svg.contains("log scale") && svg.contains("suggested 0.01"))
    }

    @Test func badSweepOptionsAreRefusedWithExitStatus2() throws {
        let data = try SyntheticData.folder(train: .init(count: 32), test: .init(count: 16))
        let file = RecipeFixtures.write(Self.recipe(data))
        for args in [["--start", "-1"], ["--end", "1e-9"], ["--steps", "1"]] {
            let run = try BoundedRun.strata(["lr-find", file] + args)
            #expect(run.status == 2, "\(args): \(run.err)")
            #expect(run.err.contains(args[0]), "\(run.err)")
        }
        let out = RecipeFixtures.temporaryDirectory("lrfind-cli")
        let run = try BoundedRun.strata(["lr-find", file, "--steps", "20", "--out", out.path])
        #expect(run.status == 0, "\(run.err)")
        #expect(run.out.contains("suggested learning rate:"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("lr_find.svg").path))
    }
}
