import Foundation
import Testing
@testable import StrataCore

/// The boostresnet plugin's schemes, run through the host's "strata.train" interface on real
/// Fashion-MNIST slices: boosting accuracy, the binary Algorithm 1, the falling exponential
/// loss, the per-block log, the ensemble checkpoint and its evaluation, and bad input.
@Suite("BoostResNet schemes", .serialized, .enabled(if: RecipeFixtures.hasFashionMNIST))
struct BoostResNetSchemeTests {
    /// Every shipped plugin installed into a fresh folder, searched by the registry.
    static func registry() throws -> ComponentRegistry {
        ComponentRegistry.withPlugins(searchPath: [try installedPlugins().path])
    }

    /// Every shipped plugin installed into a fresh folder.
    static func installedPlugins() throws -> URL {
        let into = RecipeFixtures.temporaryDirectory("boostresnet-plugins")
        let result = PluginInstaller.install(source: RecipeFixtures.repositoryRoot.appendingPathComponent("Plugins").path,
                                             libraryDirectory: PluginFixtures.productsDirectory.path, into: into.path)
        #expect(result.refusals.isEmpty, "\(result.refusals)")
        #expect(PluginDiscovery.discover(searchPath: [into.path]).refusals.isEmpty)
        return into
    }

    /// A small recipe: a narrow resnet_small (stem, 4 residual blocks, head) on a slice.
    static func recipe(scheme: String, classes: [Int]? = nil, train: Int = 3000, test: Int = 1000) -> String {
        let classesText = classes.map { ", \"classes\": \($0)" } ?? ""
        let count = classes?.count ?? 10
        return """
        {"name": "brn-test", "seed": 3, "threads": 2, "epochs": 1, "batch_size": 100,
         "data": {"train_limit": \(train), "test_limit": \(test), "normalize": {"mean": [0.286], "std": [0.353]}\(classesText)},
         "model": {"kind": "resnet_small", "widths": [8, 16], "stem_channels": 8, "classes": \(count)},
         "optimizer": {"kind": "adam", "lr": 0.002},
         "scheme": \(scheme)}
        """
    }

    /// Runs a recipe text in-process; returns the run directory and the metrics lines.
    static func run(_ text: String, registry: ComponentRegistry) throws -> (directory: URL, rounds: [JSONObject], final: JSONObject?) {
        try run(text, file: RecipeFixtures.write(text, name: "brn"), registry: registry)
    }

    static func run(_ text: String, file: String, registry: ComponentRegistry,
                    callbacks: [any Callback] = []) throws -> (directory: URL, rounds: [JSONObject], final: JSONObject?) {
        let recipe = try Recipe.load(file: file, registry: registry)
        let experiment = try Experiment(recipe: recipe, registry: registry, file: file)
        let directory = RecipeFixtures.temporaryDirectory("brn-run")
        _ = try experiment.run(directory: directory, recipeText: text, extraCallbacks: callbacks)
        let lines = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { line -> JSONObject in
                guard case let .object(o) = try JSONParser.parse(String(line)) else { throw CoreError.runtime("not an object") }
                return o
            }
        return (directory, lines.filter { $0["round"] != nil }, lines.last { $0["ensemble_test_acc"] != nil })
    }

    static func number(_ o: JSONObject, _ key: String) -> Double {
        if case let .number(x)? = o[key] { return x }
        return .nan
    }

    @Test func boostingAFewBlocksOnASliceBeatsChanceByFar() throws {
        let registry = try Self.registry()
        let (directory, rounds, final) = try Self.run(Self.recipe(scheme: #"{"kind": "boostresnet", "check_every": 60, "max_iters": 60, "rounds": 3}"#),
                                                      registry: registry)
        #expect(rounds.count == 3)
        for (t, r) in rounds.enumerated() {
            #expect(Self.number(r, "round") == Double(t))
            for key in ["gamma_tilde", "gamma", "alpha", "iterations", "train_acc", "test_acc", "seconds", "examples_per_s"] {
                #expect(Self.number(r, key).isFinite, "round \(t): \(key)")
            }
            #expect(Self.number(r, "iterations") == 60)
            let gt = Self.number(r, "gamma_tilde"), alpha = Self.number(r, "alpha")
            #expect(abs(alpha - 0.5 * log((1 + gt) / (1 - gt))) < 1e-6, "alpha is the closed form of gamma-tilde")
        }
        // Telescoping: the ensemble is the last module, so its test accuracy is the module's.
        let last = try #require(rounds.last)
        #expect(Self.number(last, "test_acc") > 0.6, "ensemble test accuracy \(Self.number(last, "test_acc"))")
        #expect(Self.number(last, "test_acc") == Self.number(last, "test_acc_module"))
        // The saved ensemble predicts what the bookkeeping said.
        let final_ = try #require(final)
        #expect(abs(Self.number(final_, "ensemble_test_acc") - Self.number(last, "test_acc")) < 1e-9)
        let checkpoint = directory.appendingPathComponent("checkpoints/last.safetensors")
        let file = try SafeTensors.read(from: checkpoint)
        let graph = try JSONParser.parse(try #require(file.metadata["strata.graph"]))
        #expect(graph["kind"] == "tapped_ensemble")
        guard case let .array(heads)? = graph["heads"] else { Issue.record("no heads"); return }
        #expect(heads.count == 3, "every block's auxiliary classifier and alpha is kept")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("plots/gamma.svg").path))
    }

    @Test func strataEvalOfTheSavedEnsembleGivesTheLoggedAccuracy() throws {
        let plugins = try Self.installedPlugins()
        let registry = ComponentRegistry.withPlugins(searchPath: [plugins.path])
        let text = Self.recipe(scheme: #"{"kind": "boostresnet", "score_update": "cumulative", "check_every": 40, "max_iters": 40, "rounds": 2}"#, train: 1000, test: 400)
        let file = RecipeFixtures.write(text, name: "brn-eval")
        let (directory, rounds, _) = try Self.run(text, file: file, registry: registry)
        let logged = Self.number(try #require(rounds.last), "test_acc")
        let result = try runStrata(["eval", file, "--checkpoint", directory.appendingPathComponent("checkpoints/last.safetensors").path],
                                   environment: ["STRATA_PLUGIN_PATH": plugins.path])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains(String(format: "test_acc %.4f", logged)), "\(result.out) vs \(logged)")
        // The cumulative ensemble's scores are a positive mixture of distributions: its loss is
        // their likelihood, below chance's log 10.
        let loss = result.out.components(separatedBy: "test_loss ").last.flatMap { Double($0.prefix { $0 != " " }) }
        #expect(result.out.contains("(mixture_nll)") && (loss ?? .nan) > 0 && (loss ?? .nan) < log(10.0), "\(result.out)")
    }

    @Test func theReferencePresetReproducesTheBatchSoftmaxSqueeze() throws {
        // Softmax over the batch makes every column sum to 1 over 100 rows, so gamma-tilde stays
        // near C/B = 0.1 (§6.1); cumulative scores, shared head, gamma_first 0.5, BatchNorm drift.
        let registry = try Self.registry()
        let (_, rounds, final) = try Self.run(Self.recipe(scheme: #"{"kind": "boostresnet", "preset": "reference", "check_every": 30, "max_iters": 30, "rounds": 2}"#, train: 1000, test: 300),
                                              registry: registry)
        #expect(rounds.count == 2)
        let first = try #require(rounds.first)
        #expect(first["preset"] == "reference" && first["score_update"] == "cumulative" && first["hypothesis_softmax"] == "batch")
        #expect(first["head"] == "shared" && first["frozen_bn"] == "train" && Self.number(first, "gamma_tilde_prev") == 0.5)
        for r in rounds {
            let gt = Self.number(r, "gamma_tilde")
            #expect(gt.isFinite && abs(gt) < 0.15, "gamma-tilde \(gt)")
            #expect(Self.number(r, "cache_bytes") == 0, "frozen modules in training mode cannot be cached")
        }
        #expect(final != nil)
    }

    @Test func withoutTheCacheFrozenBlocksRunPerBatchAndStillLearn() throws {
        let registry = try Self.registry()
        let text = Self.recipe(scheme: #"{"kind": "boostresnet", "check_every": 40, "max_iters": 40, "rounds": 3, "cache_mb": 0}"#, train: 2000, test: 500)
            .replacingOccurrences(of: #""normalize""#, with: #""augment": {"pad": 2, "flip": true}, "normalize""#)
        let (_, rounds, _) = try Self.run(text, registry: registry)
        #expect(rounds.count == 3)
        for r in rounds { #expect(Self.number(r, "cache_bytes") == 0) }
        #expect(Self.number(try #require(rounds.last), "test_acc") > 0.6)
    }

    @Test func adaptiveDepthStopsAddingBlocksWhenGammaFallsBelowTheThreshold() throws {
        // The paper's use of the threshold: with 0.999 no block's gamma passes, so after the first
        // block (always trained) no other is added.
        let registry = try Self.registry()
        let (_, rounds, _) = try Self.run(Self.recipe(scheme: #"{"kind": "boostresnet", "check_every": 20, "max_iters": 20, "adaptive_depth": true, "gamma_threshold": 0.999}"#, train: 600, test: 200),
                                          registry: registry)
        #expect(rounds.count == 1)
    }

    @Test func residualBlocksNestedInStagesAreFlattenedIntoModules() throws {
        // torchvision-style nesting: the blocks sit inside a stage (a sequential of residual blocks).
        let block = #"{"kind": "residual", "body": {"kind": "sequential", "layers": [{"kind": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"kind": "relu"}, {"kind": "batchnorm2d"}]}}"#
        let model = """
        {"kind": "sequential", "layers": [
          {"kind": "conv2d", "name": "stem", "out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1}, {"kind": "relu"},
          {"kind": "sequential", "name": "stage1", "layers": [\(block), \(block)]},
          {"kind": "adaptive_avgpool2d", "name": "pool"}, {"kind": "flatten"}, {"kind": "linear", "name": "fc", "out_features": 10}]}
        """
        let text = Self.recipe(scheme: #"{"kind": "boostresnet", "check_every": 30, "max_iters": 30}"#, train: 1000, test: 300)
            .replacingOccurrences(of: #"{"kind": "resnet_small", "widths": [8, 16], "stem_channels": 8, "classes": 10}"#, with: model)
        let registry = try Self.registry()
        let (directory, rounds, _) = try Self.run(text, registry: registry)
        #expect(rounds.map { $0["block"] } == ["stem+1", "stage1_0", "stage1_1"])
        #expect(Self.number(try #require(rounds.last), "test_acc") > 0.5)
        let saved = try SafeTensors.read(from: directory.appendingPathComponent("checkpoints/last.safetensors"))
        #expect(saved.tensors.contains { $0.name == "stage1_1.body.0.weight" }, "\(saved.tensors.map(\.name))")
    }

    @Test func theExponentialLossFallsAsBlocksAreAdded() throws {
        // Cumulative scores (AdaBoost.MM): Z_{t+1} <= Z_t sqrt(1 - gamma-tilde^2) for the closed-form alpha.
        let registry = try Self.registry()
        let (_, rounds, _) = try Self.run(Self.recipe(scheme: #"{"kind": "boostresnet", "score_update": "cumulative", "check_every": 40, "max_iters": 40, "rounds": 4}"#, train: 2000, test: 500),
                                          registry: registry)
        #expect(rounds.count == 4)
        let logZ = rounds.map { Self.number($0, "log_z") }
        #expect(abs(logZ[0] - log(2000.0 * 9)) < 1e-9, "round 0: s = 0, so Z = n (C - 1)")
        for t in 1..<logZ.count {
            let gt = Self.number(rounds[t - 1], "gamma_tilde")
            #expect(gt > 0)
            #expect(logZ[t] < logZ[t - 1], "log Z \(logZ)")
            #expect(logZ[t] <= logZ[t - 1] + 0.5 * log(1 - gt * gt) + 1e-9, "the AdaBoost bound, round \(t)")
        }
    }

    @Test func theBinarySchemeSeparatesTwoClasses() throws {
        let registry = try Self.registry()
        let (_, rounds, _) = try Self.run(Self.recipe(scheme: #"{"kind": "boostresnet-binary", "check_every": 30, "max_iters": 30, "rounds": 2}"#, classes: [0, 6], train: 2000, test: 600),
                                          registry: registry)
        #expect(rounds.count == 2)
        let last = try #require(rounds.last)
        #expect(Self.number(last, "test_acc") > 0.7, "T-shirt against shirt: \(Self.number(last, "test_acc"))")
        for r in rounds {
            let gt = Self.number(r, "gamma_tilde")
            #expect(gt > 0 && gt < 1)
            #expect(Self.number(r, "exp_loss").isFinite)
        }
    }

    @Test func badOptionsAreRecipeErrorsAtTheSchemePath() throws {
        let registry = try Self.registry()
        let file = RecipeFixtures.write(Self.recipe(scheme: #"{"kind": "boostresnet", "check_every": 0}"#), name: "brn-bad")
        do {
            try RecipeFixtures.build(file: file, registry: registry)
            Issue.record("accepted check_every 0")
        } catch let error as RecipeValidationError {
            #expect(error.description.contains("$.scheme.check_every:"), "\(error)")
            #expect(error.description.contains("check_every"), "\(error)")
        }
        let unknown = RecipeFixtures.write(Self.recipe(scheme: #"{"kind": "boosting"}"#), name: "brn-unknown")
        #expect(throws: RecipeValidationError.self) { _ = try Recipe.load(file: unknown, registry: registry) }
    }

    @Test func aModelWithoutResidualBlocksIsRefusedWithItsReason() throws {
        let registry = try Self.registry()
        let text = Self.recipe(scheme: #"{"kind": "boostresnet"}"#).replacingOccurrences(of: #"{"kind": "resnet_small", "widths": [8, 16], "stem_channels": 8, "classes": 10}"#, with: #"{"kind": "lenet"}"#)
        do {
            _ = try Self.run(text, registry: registry)
            Issue.record("boosted a network without residual blocks")
        } catch let error as CoreError {
            #expect(error.exitStatus == 2)
            #expect("\(error)".contains("boostresnet"), "\(error)")
            #expect("\(error)".contains("residual"), "\(error)")
        }
    }

    @Test func dataClassesSelectsAndRelabels() throws {
        let registry = try Self.registry()
        let file = RecipeFixtures.write(Self.recipe(scheme: #"{"kind": "fit"}"#, classes: [6, 0], train: 500, test: 100), name: "brn-classes")
        let recipe = try Recipe.load(file: file, registry: registry)
        let (train, test) = try Experiment(recipe: recipe, registry: registry).loadData()
        #expect(train.count == 500 && test.count == 100)
        #expect(Set(train.labels) == [0, 1] && train.classCount == 2)
        let all = try FashionMNIST.load(directory: RecipeFixtures.fashionDirectory, split: .test, limit: nil)
        let expected = (0..<all.count).filter { all.labels[$0] == 6 || all.labels[$0] == 0 }.prefix(100)
        #expect(test.labels == expected.map { all.labels[$0] == 6 ? 0 : 1 })
    }
}
