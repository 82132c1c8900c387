import Foundation
import Testing
@testable import StrataCore

/// Records the training events a scheme dispatches; may set every step's learning rate and
/// ask to stop at a chosen event.
final class EventRecorder: Callback {
    let kind = "event_recorder"
    var events: [(event: TrainingEvent, context: CallbackContext)] = []
    var learningRate: Double?
    var stopAt: (event: TrainingEvent, epoch: Int, batch: Int)?

    init(learningRate: Double? = nil, stopAt: (event: TrainingEvent, epoch: Int, batch: Int)? = nil) {
        self.learningRate = learningRate
        self.stopAt = stopAt
    }

    func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        if event == .batchBegin, let learningRate { c.learningRate = learningRate }
        if let s = stopAt, s.event == event, s.epoch == c.epoch, s.batch == c.batch { c.stop = true }
        events.append((event, c))
    }

    func contexts(_ event: TrainingEvent) -> [CallbackContext] { events.filter { $0.event == event }.map(\.context) }
}

/// A scheme run sends the recipe's callbacks the fit loop's events: a block is an epoch, a step
/// a batch. Callbacks see the scheme's learning rate and figures, and may change the rate or stop.
extension BoostResNetSchemeTests {
    static let cosineRecipe = recipe(scheme: #"{"kind": "boostresnet", "check_every": 20, "max_iters": 20, "rounds": 2, "lr_schedule": "cosine"}"#,
                                     train: 2000, test: 500)

    @Test func blocksAndStepsReachCallbacksAsEpochsAndBatches() throws {
        let registry = try Self.registry()
        let recorder = EventRecorder()
        let (_, rounds, _) = try Self.run(Self.cosineRecipe, file: RecipeFixtures.write(Self.cosineRecipe, name: "brn-events"),
                                          registry: registry, callbacks: [recorder])
        #expect(rounds.count == 2)
        #expect(recorder.events.first?.event == .trainBegin && recorder.events.last?.event == .trainEnd)
        #expect(recorder.events.allSatisfy { $0.context.epochs == 2 })
        #expect(recorder.contexts(.epochBegin).map(\.epoch) == [1, 2])
        #expect(recorder.contexts(.epochEnd).map(\.epoch) == [1, 2])
        let begins = recorder.contexts(.batchBegin), ends = recorder.contexts(.batchEnd)
        #expect(begins.map(\.batch) == Array(0..<20) + Array(0..<20))
        #expect(ends.map(\.batch) == begins.map(\.batch))
        #expect(ends.map(\.globalStep) == Array(1...40))
        #expect(begins.allSatisfy { $0.batchesPerEpoch == 20 })
        // The scheme's own schedule (cosine within each block) is what a callback sees and may change.
        for c in begins {
            let expected = 0.002 * 0.5 * (1 + cos(Double.pi * Double(c.batch) / 20))
            #expect(abs(c.learningRate - expected) < 1e-12, "epoch \(c.epoch) batch \(c.batch): \(c.learningRate) vs \(expected)")
        }
        for c in ends {
            #expect(c.trainLoss.isFinite && c.trainAccuracy >= 0 && c.trainAccuracy <= 1 && c.examplesPerSecond > 0)
        }
        // At an epoch's end the callbacks see the block's ensemble test accuracy from metrics.jsonl.
        for (c, r) in zip(recorder.contexts(.epochEnd), rounds) {
            #expect(c.testAccuracy == Self.number(r, "test_acc"))
            #expect(c.batch == 20)
            #expect(abs(Self.number(r, "lr") - 0.002 * 0.5 * (1 + cos(Double.pi * 19 / 20))) < 1e-12, "the last step's rate")
        }
        #expect(Self.number(rounds[0], "train_acc_module") > 0.5, "trained: \(Self.number(rounds[0], "train_acc_module"))")
    }

    @Test func aCallbackSetsTheRateAndStopsTheRun() throws {
        let registry = try Self.registry()
        // Learning rate 0 from a callback: the first module does not learn at all.
        let frozen = EventRecorder(learningRate: 0, stopAt: (.batchEnd, 2, 4))
        let text = Self.cosineRecipe.replacingOccurrences(of: #""rounds": 2"#, with: #""rounds": 3"#)
        let (directory, rounds, final) = try Self.run(text, file: RecipeFixtures.write(text, name: "brn-stop"),
                                                      registry: registry, callbacks: [frozen])
        #expect(Self.number(rounds[0], "lr") == 0)
        #expect(Self.number(rounds[0], "train_acc_module") < 0.4, "untrained: \(Self.number(rounds[0], "train_acc_module"))")
        // Stop at the fifth step of the second block: that block ends after its bookkeeping, no third starts.
        #expect(rounds.count == 2)
        #expect(Self.number(rounds[1], "iterations") == 5)
        #expect(frozen.contexts(.batchEnd).count == 25)
        #expect(frozen.events.suffix(2).map(\.event) == [.epochEnd, .trainEnd])
        // What was trained is kept: the ensemble of two modules, saved and evaluated.
        #expect(Self.number(try #require(final), "rounds") == 2)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("checkpoints/last.safetensors").path))
    }

    @Test func aStopBeforeABlocksFirstStepAddsNoModule() throws {
        let recorder = EventRecorder(stopAt: (.epochBegin, 2, 0))
        let (_, rounds, final) = try Self.run(Self.cosineRecipe, file: RecipeFixtures.write(Self.cosineRecipe, name: "brn-stop-early"),
                                              registry: try Self.registry(), callbacks: [recorder])
        let finalLine = try #require(final)
        #expect(rounds.count == 1 && Self.number(finalLine, "rounds") == 1)
        #expect(recorder.contexts(.batchEnd).count == 20)
        #expect(recorder.events.suffix(3).map(\.event) == [.epochBegin, .epochEnd, .trainEnd])
    }

    @Test func callbacksTheHostOwnsInSchemeRunsAreRecipeErrors() throws {
        let registry = try Self.registry()
        let text = Self.cosineRecipe.replacingOccurrences(of: #""scheme":"#,
            with: #""callbacks": [{"kind": "progress"}, {"kind": "early_stop", "patience": 2}, {"kind": "checkpoint"}], "scheme":"#)
        do {
            _ = try Recipe.load(file: RecipeFixtures.write(text, name: "brn-callbacks"), registry: registry)
            Issue.record("accepted a checkpoint callback in a scheme run")
        } catch let error as RecipeValidationError {
            #expect(error.errors.count == 1, "\(error)")
            #expect(error.description.contains("$.callbacks[2]: \"checkpoint\" does not apply to a run with a \"scheme\""), "\(error)")
        }
        let allowed = text.replacingOccurrences(of: #", {"kind": "checkpoint"}"#, with: "")
        let recipe = try Recipe.load(file: RecipeFixtures.write(allowed, name: "brn-callbacks-ok"), registry: registry)
        #expect(recipe.callbacks?.map(\.kind) == ["progress", "early_stop"])
    }
}

/// Two scheme runs going on at once, in two threads.
extension BoostResNetSchemeTests {
    /// What each thread's run gave (or threw), written by that thread only and read after both ended.
    final class Outcomes: @unchecked Sendable {
        var rounds: [Result<[JSONObject], any Error>?] = [nil, nil]
        let texts: [String]
        let registry: ComponentRegistry
        init(texts: [String], registry: ComponentRegistry) {
            self.texts = texts
            self.registry = registry
        }
    }

    @Test func twoRunsInTwoThreadsGiveWhatEachGivesAlone() throws {
        let registry = try Self.registry()
        let texts = [
            Self.recipe(scheme: #"{"kind": "boostresnet", "check_every": 25, "max_iters": 25, "rounds": 2}"#, train: 1000, test: 300),
            Self.recipe(scheme: #"{"kind": "boostresnet", "score_update": "cumulative", "check_every": 25, "max_iters": 25, "rounds": 3}"#, train: 1000, test: 300)
                .replacingOccurrences(of: #""seed": 3"#, with: #""seed": 5"#),
        ]
        let alone = try texts.map { try Self.run($0, registry: registry).rounds }
        let outcomes = Outcomes(texts: texts, registry: registry)
        let group = DispatchGroup()
        for i in 0..<2 {
            DispatchQueue.global().async(group: group) {
                outcomes.rounds[i] = Result { try Self.run(outcomes.texts[i], registry: outcomes.registry).rounds }
            }
        }
        group.wait()
        for i in 0..<2 {
            let together = try #require(outcomes.rounds[i]).get()
            #expect(together.count == alone[i].count)
            // Each run's handles are its own and the kernels split their work the same whoever
            // runs it, so every figure is bit for bit what the run gives alone.
            for (a, b) in zip(alone[i], together) {
                for key in ["gamma_tilde", "gamma", "alpha", "train_acc", "test_acc", "train_loss"] {
                    #expect(Self.number(a, key) == Self.number(b, key), "run \(i) round \(Self.number(a, "round")) \(key): \(Self.number(a, key)) alone, \(Self.number(b, key)) together")
                }
            }
        }
    }
}
