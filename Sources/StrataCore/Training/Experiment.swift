import CStrataKernels
import Foundation

/// The shape of one example and the number of classes of each data set a recipe may name,
/// known without reading the data (so `strata summary` needs none).
/// Fashion-MNIST is the only data set a recipe can name so far (`Recipe.datasets`).
public func datasetGeometry(_ name: String) -> (exampleShape: [Int], classes: Int) {
    ([1, 28, 28], 10)
}

/// What a finished run reports (`summary.json`).
public struct RunSummary {
    public let records: [EpochRecord]
    public let trainSeconds: Double
    public let examplesPerSecond: Double
    public let peakRSSBytes: Int64
    public let runDirectory: URL?
    public var final: EpochRecord? { records.last }
}

/// A recipe turned into objects: the model, the loss, the optimizer and its parameter slots.
/// `run` loads the data, trains, and writes the run directory.
public final class Experiment {
    public let recipe: Recipe
    public let registry: ComponentRegistry
    public let model: Model
    public let loss: any Loss
    public let optimizer: any Optimizer
    public let slots: [OptimizerSlot]

    /// Builds the model and the optimizer. Throws `RecipeValidationError` for problems in the
    /// model object and `StrataError.shape` when the layers do not fit the data.
    public init(recipe: Recipe, registry: ComponentRegistry, file: String = "recipe") throws {
        self.recipe = recipe
        self.registry = registry
        sk_set_threads(Int32(recipe.threads))
        let diagnostics = Diagnostics()
        let builder = ModelBuilder(registry: registry, diagnostics: diagnostics)
        let root = builder.layer(recipe.model, path: "$.model")
        guard let root, diagnostics.errors.isEmpty else {
            throw RecipeValidationError(file: file, errors: diagnostics.errors)
        }
        let geometry = datasetGeometry(recipe.data.dataset)
        var context = BuildContext(seed: recipe.seed, defaultInit: recipe.defaultInit)
        model = try Model(root: root, exampleShape: geometry.exampleShape, maxBatch: recipe.batchSize,
                          context: &context, jsonPaths: builder.jsonPaths)
        guard model.outputExampleShape == [recipe.data.classCount] else {
            throw StrataError.shape(where: "$.model", message: "the model's output per example is \(describe(model.outputExampleShape)); \(recipe.data.dataset)\(recipe.data.classes == nil ? "" : " with data.classes \(recipe.data.classes!)") needs [\(recipe.data.classCount)] (one score per class)")
        }
        loss = recipe.loss
        optimizer = recipe.optimizer.make()
        slots = Experiment.slots(for: model, groups: recipe.paramGroups, weightDecay: recipe.optimizer.weightDecay)
    }

    /// Each trainable parameter with the learning-rate multiplier and weight decay of the group
    /// whose `match` is its longest matching dotted-name prefix.
    static func slots(for model: Model, groups: [Recipe.ParamGroup], weightDecay: Double) -> [OptimizerSlot] {
        slots(for: model.trainableParameters, groups: groups, weightDecay: weightDecay)
    }

    /// The same for a given list of named trainable parameters (a slice of a model).
    static func slots(for parameters: [(name: String, parameter: Parameter)], groups: [Recipe.ParamGroup],
                      weightDecay: Double) -> [OptimizerSlot] {
        parameters.map { name, p in
            let group = groups.filter { name == $0.match || name.hasPrefix($0.match + ".") || $0.match.isEmpty }
                .max { $0.match.count < $1.match.count }
            return OptimizerSlot(name: name, parameter: p, learningRateMultiplier: Float(group?.learningRateMultiplier ?? 1),
                                 weightDecay: Float(group?.weightDecay ?? weightDecay))
        }
    }

    /// Loads the recipe's data set (train and test splits, limits applied).
    public func loadData(train loadTrain: Bool = true) throws -> (train: ImageDataset, test: ImageDataset) {
        let d = recipe.data
        let empty = ImageDataset(pixels: [], labels: [], channels: 1, height: 28, width: 28, classCount: 10)
        var train = loadTrain ? try FashionMNIST.load(directory: d.path, split: .train, limit: d.classes == nil ? d.trainLimit : nil) : empty
        var test = try FashionMNIST.load(directory: d.path, split: .test, limit: d.classes == nil ? d.testLimit : nil)
        if let classes = d.classes {
            // The limits count the selected examples.
            if loadTrain { train = train.selecting(classes: classes).prefix(d.trainLimit ?? Int.max) }
            test = test.selecting(classes: classes).prefix(d.testLimit ?? Int.max)
        }
        return (train, test)
    }

    /// Loss and accuracy of the model as it is on the recipe's test set (evaluation mode).
    /// `loss` replaces the recipe's loss for this evaluation.
    public func evaluate(loss: (any Loss)? = nil) throws -> (loss: Double, accuracy: Double, examples: Int) {
        let testSet = try loadData(train: false).test
        let loader = try BatchLoader(dataset: testSet, batchSize: recipe.batchSize, mode: .evaluation,
                                     normalization: recipe.data.normalization)
        let trainer = Trainer(model: model, loss: loss ?? self.loss, optimizer: optimizer, slots: slots, train: loader, test: nil, epochs: 0)
        let result = try trainer.evaluate(loader)
        return (result.loss, result.accuracy, testSet.count)
    }

    /// Creates `checkpoints/` and `plots/` in the run directory and writes `recipe.json` (as run).
    func prepareRunDirectory(_ directory: URL) throws {
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("checkpoints"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("plots"), withIntermediateDirectories: true)
        try Data((recipe.json.serialized(pretty: true) + "\n").utf8).write(to: directory.appendingPathComponent("recipe.json"))
    }

    /// Trains on the recipe's data, writing the run directory when `directory` is given.
    public func run(directory: URL?, recipeText: String, extraCallbacks: [any Callback] = []) throws -> RunSummary {
        if let scheme = recipe.scheme?.plugin {
            return try runScheme(scheme, directory: directory, extraCallbacks: extraCallbacks)
        }
        let (trainSet, testSet) = try loadData()
        let trainLoader = try BatchLoader(dataset: trainSet, batchSize: recipe.batchSize,
                                          mode: .training(seed: recipe.seed), normalization: recipe.data.normalization,
                                          augmentation: recipe.data.augmentation)
        let testLoader = try BatchLoader(dataset: testSet, batchSize: recipe.batchSize, mode: .evaluation,
                                         normalization: recipe.data.normalization)
        if let directory { try prepareRunDirectory(directory) }
        let checkpointer = Checkpointer(model: model, optimizer: optimizer, recipeText: recipeText)
        var firstEpoch = 1
        if let resume = recipe.resume {
            firstEpoch = try checkpointer.load(from: URL(fileURLWithPath: resume), optimizerState: true) + 1
        }
        let resources = RunResources(runDirectory: directory?.path, checkpointer: checkpointer)
        var callbacks = try recipe.callbacks.compactMap { try $0.make(resources) }
        // Schedules set the learning rate before the other callbacks see a batch.
        callbacks.sort { ($0 is LRScheduleCallback ? 0 : 1) < ($1 is LRScheduleCallback ? 0 : 1) }
        let trainer = Trainer(model: model, loss: loss, optimizer: optimizer, slots: slots, train: trainLoader, test: testLoader,
                              epochs: recipe.epochs, callbacks: callbacks + extraCallbacks, runDirectory: directory?.path)
        let records = try trainer.fit(firstEpoch: firstEpoch)
        let seconds = records.reduce(0) { $0 + $1.trainSeconds }
        let examples = Double(trainSet.count * records.count)
        let summary = RunSummary(records: records, trainSeconds: seconds, examplesPerSecond: seconds > 0 ? examples / seconds : .nan,
                                 peakRSSBytes: sk_peak_rss_bytes(), runDirectory: directory)
        if let directory {
            try Data((summaryJSON(summary).serialized(pretty: true) + "\n").utf8)
                .write(to: directory.appendingPathComponent("summary.json"))
        }
        return summary
    }

    func summaryJSON(_ s: RunSummary) -> JSONValue {
        let last = s.final
        return .object(JSONObject([
            ("name", .string(recipe.name)),
            ("epochs_run", .number(Double(s.records.count))),
            ("test_acc", jsonNumber(last?.testAccuracy ?? .nan)),
            ("test_loss", jsonNumber(last?.testLoss ?? .nan)),
            ("train_acc", jsonNumber(last?.trainAccuracy ?? .nan)),
            ("train_loss", jsonNumber(last?.trainLoss ?? .nan)),
            ("train_time_s", jsonNumber(s.trainSeconds)),
            ("examples_per_s", jsonNumber(s.examplesPerSecond)),
            ("peak_rss_bytes", .number(Double(s.peakRSSBytes))),
            ("parameters", .number(Double(model.trainableParameters.reduce(0) { $0 + $1.parameter.value.count }))),
            ("threads", .number(Double(recipe.threads))),
            ("seed", .number(Double(recipe.seed))),
            ("machine", (try? MachineInfo.current())?.json ?? .null),
        ]))
    }
}
