import Foundation
import Testing
@testable import StrataCore

/// The options gamma_rule, sampling and refine_epochs of the boostresnet scheme
/// (docs/boostresnet.md §1.12, §6.9, §1.13), run on Fashion-MNIST slices.
@Suite("BoostResNet gamma rule, sampling and refinement", .serialized, .enabled(if: RecipeFixtures.hasFashionMNIST))
struct BoostResNetOptionsRunTests {
    typealias T = BoostResNetSchemeTests

    @Test func theAccuracyRuleFollowsItsFormulaRoundByRound() throws {
        let registry = try T.registry()
        let (_, rounds, _) = try T.run(T.recipe(scheme: #"{"kind": "boostresnet", "preset": "reference", "hypothesis_softmax": "classes", "frozen_bn": "eval", "gamma_rule": "accuracy", "check_every": 40, "max_iters": 80, "rounds": 3}"#, train: 2000, test: 500),
                                       registry: registry)
        #expect(rounds.count == 3)
        var previous = 0.0, updated = 0
        for (t, r) in rounds.enumerated() {
            let a = T.number(r, "train_acc_module"), gamma = T.number(r, "gamma")
            #expect(T.number(r, "accuracy_prev") == previous, "round \(t)")
            #expect(abs(gamma - (a - previous) / (1 - a)) < 1e-9, "round \(t): gamma \(gamma), a \(a), a_prev \(previous)")
            // One chunk per module, whatever max_iters allows.
            #expect(T.number(r, "chunks") == 1 && T.number(r, "iterations") == 40, "round \(t)")
            let passed = !(gamma < -0.0001)
            #expect(r["scores_updated"] == .bool(passed) && T.number(r, "alpha") == (passed ? 1 : 0), "round \(t)")
            if passed { updated += 1 }
            previous = a
        }
        // Round 0 always passes (a / (1 - a) >= 0): s = log(o) has o's argmax, so the ensemble
        // predicts as the module does; later rounds keep it well above chance (0.1).
        #expect(updated >= 1 && rounds[0]["scores_updated"] == .bool(true))
        #expect(T.number(rounds[0], "test_acc") == T.number(rounds[0], "test_acc_module"))
        #expect(T.number(rounds[2], "test_acc") > 0.4, "\(T.number(rounds[2], "test_acc"))")
    }

    @Test func theAccuracyRuleNeedsCumulativeScoresAndSamplingNeedsTheCache() throws {
        let registry = try T.registry()
        func recipeError(_ scheme: String) throws -> String {
            let file = RecipeFixtures.write(T.recipe(scheme: scheme), name: "brn-options-bad")
            do {
                try RecipeFixtures.build(file: file, registry: registry)
            } catch let error as RecipeValidationError {
                return error.description
            }
            Issue.record("accepted \(scheme)")
            return ""
        }
        let telescoping = try recipeError(#"{"kind": "boostresnet", "gamma_rule": "accuracy"}"#)
        #expect(telescoping.contains("$.scheme") && telescoping.contains("gamma_rule") && telescoping.contains("cumulative"), "\(telescoping)")
        let sampling = try recipeError(#"{"kind": "boostresnet", "sampling": "sometimes"}"#)
        #expect(sampling.contains(#"option "sampling": must be one of "epochs", "with_replacement", "reference", got "sometimes""#), "\(sampling)")
        let refine = try recipeError(#"{"kind": "boostresnet", "refine_epochs": -1}"#)
        #expect(refine.contains("refine_epochs"), "\(refine)")
        // Without the cache (frozen_bn "train" disables it) drawing with replacement is refused at run time, by name.
        do {
            _ = try T.run(T.recipe(scheme: #"{"kind": "boostresnet", "frozen_bn": "train", "sampling": "reference", "check_every": 5, "max_iters": 5, "rounds": 1}"#, train: 300, test: 100),
                          registry: registry)
            Issue.record("drew with replacement without the cache")
        } catch let error as CoreError {
            #expect(error.exitStatus == 2)
            #expect("\(error)".contains(#"option "sampling""#) && "\(error)".contains("feature cache"), "\(error)")
        }
    }

    @Test func samplingWithReplacementTrainsAndTheReferenceDrawIsReproducible() throws {
        let registry = try T.registry()
        var accs: [[Double]] = []
        for sampling in ["reference", "reference", "with_replacement"] {
            let (_, rounds, _) = try T.run(T.recipe(scheme: #"{"kind": "boostresnet", "sampling": "\#(sampling)", "check_every": 40, "max_iters": 40, "rounds": 2}"#, train: 2000, test: 500),
                                           registry: registry)
            #expect(rounds.count == 2)
            accs.append(rounds.map { T.number($0, "gamma_tilde") })
            #expect(T.number(rounds[1], "test_acc") > 0.5, "\(sampling): \(T.number(rounds[1], "test_acc"))")
        }
        #expect(accs[0] == accs[1], "same seed, same draws")
        #expect(accs[0] != accs[2], "example 0 excluded or not changes the draws")
    }

    @Test func refinementTrainsTheWholeNetworkAndIsLogged() throws {
        let registry = try T.registry()
        let (directory, rounds, _) = try T.run(T.recipe(scheme: #"{"kind": "boostresnet", "head": "shared", "check_every": 20, "max_iters": 20, "rounds": 3, "refine_epochs": 2}"#, train: 1000, test: 500),
                                               registry: registry)
        #expect(rounds.count == 3)
        let lines = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { line -> JSONObject? in
                guard case let .object(o) = try JSONParser.parse(String(line)) else { return nil }
                return o
            }.filter { $0["phase"] == .string("refine") }
        #expect(lines.count == 2)
        // 1000 examples in batches of 100: 10 updates per pass, after 3 · 20 boosting updates.
        #expect(lines.map { T.number($0, "gradient_updates") } == [70, 80])
        #expect(lines.map { T.number($0, "iterations") } == [10, 10])
        for l in lines { #expect(T.number(l, "refined_test_acc") > 0.3 && T.number(l, "train_loss").isFinite, "\(l)") }
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("checkpoints/refined.safetensors").path))
    }
}
