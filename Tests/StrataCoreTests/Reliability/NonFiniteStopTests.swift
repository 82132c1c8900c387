import Foundation
import Testing
@testable import StrataCore

/// A run whose loss or weights become NaN stops, naming the epoch and the batch, and keeps the
/// checkpoints of the epochs before (never one of NaN weights).
@Suite("A diverging run stops and keeps its last good checkpoint")
struct NonFiniteStopTests {
    /// Writes NaN into element 5 of one parameter at one event of one batch, as a diverged
    /// update would.
    final class Poison: Callback {
        let kind = "poison"
        let model: Model, parameter: String, epoch: Int, batch: Int, event: TrainingEvent
        init(model: Model, parameter: String, epoch: Int, batch: Int, at event: TrainingEvent) {
            (self.model, self.parameter, self.epoch, self.batch, self.event) = (model, parameter, epoch, batch, event)
        }
        func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
            guard event == self.event, c.epoch == epoch, c.batch == batch else { return }
            model.namedParameters.first { $0.name == parameter }?.parameter.value[5] = .nan
        }
    }

    func run(poison parameter: String, epoch: Int, batch: Int, event: TrainingEvent) throws -> (error: String, directory: URL, experiment: Experiment) {
        let data = try SyntheticData.folder()
        let registry = ComponentRegistry.builtIn()
        let recipe = try Recipe.load(file: RecipeFixtures.write(SyntheticData.recipe(data: data, epochs: 3)), registry: registry)
        let experiment = try Experiment(recipe: recipe, registry: registry)
        let directory = RecipeFixtures.temporaryDirectory("strata-run")
        do {
            _ = try experiment.run(directory: directory, recipeText: "",
                                   extraCallbacks: [Poison(model: experiment.model, parameter: parameter, epoch: epoch, batch: batch, at: event)])
            return ("no error", directory, experiment)
        } catch let error as CoreError {
            return (error.description, directory, experiment)
        }
    }

    /// The last checkpoint records `epoch` and holds finite weights only.
    func expectLastCheckpoint(_ directory: URL, epoch: Int, _ experiment: Experiment) throws {
        let checkpoints = directory.appendingPathComponent("checkpoints")
        let names = try FileManager.default.contentsOfDirectory(atPath: checkpoints.path)
        #expect(!names.contains("epoch-\(epoch + 1).safetensors"), "\(names)")
        let loaded = try Checkpointer(model: experiment.model, optimizer: experiment.optimizer)
            .load(from: checkpoints.appendingPathComponent("last.safetensors"), optimizerState: true)
        #expect(loaded == epoch)
    }

    @Test func aNaNLossStopsNamingEpochAndBatch() throws {
        // The classifier's weight: its NaN reaches the scores, so the loss of that very batch.
        let (error, directory, experiment) = try run(poison: "4.weight", epoch: 2, batch: 3, event: .batchBegin)
        #expect(error == "epoch 2, batch 4 of 6: the training loss is nan; the run stops before this batch's update and keeps "
            + "the checkpoints of the epochs before it in \(directory.path)/checkpoints (a smaller optimizer.lr usually helps)")
        try expectLastCheckpoint(directory, epoch: 1, experiment)
    }

    @Test func nonFiniteWeightsAfterTheLastBatchStopBeforeTheCheckpoint() throws {
        // A convolution weight poisoned after the epoch's last update: no loss of that epoch
        // shows it (and a NaN before a ReLU would never reach the loss: ReLU maps NaN to 0).
        let (error, directory, experiment) = try run(poison: "0.weight", epoch: 2, batch: 5, event: .batchEnd)
        #expect(error.hasPrefix("epoch 2, after batch 6 of 6: parameter '0.weight' holds nan at element 5; "
            + "the run stops before this epoch's evaluation"), "\(error)")
        try expectLastCheckpoint(directory, epoch: 1, experiment)
    }
}
