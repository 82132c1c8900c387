import CStrataKernels
import Foundation

/// What a finished run reports (`summary.json`).
public struct RunSummary {
    public let records: [EpochRecord]
    public let trainSeconds: Double
    public let examplesPerSecond: Double
    public let peakRSSBytes: Int64
    public let runDirectory: URL?
    public var final: EpochRecord? { records.last }
}

/// A recipe built: the model, the loss, the optimizer and its parameter slots, and the training
/// scheme — each constructed once, here, from the specs `Recipe` read. `run` (Run/RunOrchestrator.swift)
/// loads the data, makes the callbacks, owns the run directory and hands all of it to the scheme.
public final class Experiment {
    public let recipe: Recipe
    public let registry: ComponentRegistry
    public let model: Model
    public let loss: any Loss
    public let optimizer: any Optimizer
    public let slots: [OptimizerSlot]
    public let scheme: any TrainingScheme
    /// Where the data comes from, with its geometry.
    public let source: any DataSource

    /// Builds every component. Throws `RecipeValidationError` (naming `file`) for a component
    /// that refuses its options, and `CoreError.shape` when the layers do not fit the data.
    public init(recipe: Recipe, registry: ComponentRegistry, file: String = "recipe") throws {
        self.recipe = recipe
        self.registry = registry
        sk_set_threads(Int32(recipe.threads))
        guard let spec = recipe.modelSpec else {
            throw RecipeValidationError(file: file, errors: [RecipeError(path: "$.model", message: "is required")])
        }
        source = recipe.data.source
        let tree = try LayerSpec.buildTree(spec, registry: registry, file: file)
        var context = BuildContext(seed: recipe.seed, defaultInit: recipe.defaultInit)
        model = try Model(root: tree.root, exampleShape: recipe.data.inputShape, maxBatch: recipe.batchSize,
                          context: &context, jsonPaths: tree.jsonPaths)
        guard model.outputExampleShape == [recipe.data.classCount] else {
            let selected = recipe.data.classes.map { " with data.classes \($0)" } ?? ""
            throw CoreError.shape(where: "$.model", message: "the model's output per example is \(describe(model.outputExampleShape)); \(recipe.data.dataset)\(selected) needs [\(recipe.data.classCount)] (one score per class)")
        }
        try Experiment.checkLayerReferences(recipe.callbacks ?? [], model: model, file: file)
        do {
            loss = try recipe.loss.make()
            optimizer = try recipe.optimizer.make()
            scheme = try recipe.scheme?.make() ?? FitScheme()
        } catch let e as ComponentBuildError {
            throw RecipeValidationError(file: file, errors: [RecipeError(path: e.path, message: e.message)])
        }
        slots = Experiment.slots(for: model, groups: recipe.paramGroups, weightDecay: recipe.optimizer.weightDecay)
    }

    /// Refuses callback options naming layers the model does not have, each at its JSON path
    /// (`$.callbacks[i].layers[j]`), listing the model's layers.
    static func checkLayerReferences(_ callbacks: [Recipe.CallbackSpec], model: Model, file: String) throws {
        let names = model.root.namedLayers().map(\.name).filter { !$0.isEmpty }
        let known = Set(names)
        let shown = names.prefix(40).joined(separator: ", ") + (names.count > 40 ? ", … (\(names.count) in all)" : "")
        let errors = callbacks.flatMap(\.layers).filter { !known.contains($0.name) }.map {
            RecipeError(path: $0.path, message: "the model has no layer named \"\($0.name)\"; its layers are \(shown)")
        }
        if !errors.isEmpty { throw RecipeValidationError(file: file, errors: errors) }
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

    /// Loads the recipe's data from its source (train and test splits, limits and class
    /// selection applied). Decoded images beyond `data.cache.memory_mb` (both splits together)
    /// go to cache files in `cacheDirectory` (the run's `cache/`; the temporary folder when nil).
    public func loadData(train loadTrain: Bool = true, cacheDirectory: String? = nil) throws -> (train: ImageDataset, test: ImageDataset) {
        let d = recipe.data
        let empty = ImageDataset(pixels: [], labels: [], channels: source.exampleShape[0], height: source.exampleShape[1],
                                 width: source.exampleShape[2], classCount: source.classCount)
        let budget = d.cacheMemoryMB.multipliedReportingOverflow(by: 1 << 20)
        var cache = DataCache(memoryBytes: budget.overflow ? Int.max : budget.partialValue,
                              directory: cacheDirectory ?? NSTemporaryDirectory() + "strata-cache")
        var train = loadTrain ? try source.load(split: .train, limit: d.classes == nil ? d.trainLimit : nil, cache: cache) : empty
        if !train.isCachedOnDisk { cache.memoryBytes -= train.storage.count }
        var test = try source.load(split: .test, limit: d.classes == nil ? d.testLimit : nil, cache: cache)
        if let classes = d.classes {
            // The limits count the selected examples.
            if loadTrain { train = train.selecting(classes: classes).prefix(d.trainLimit ?? Int.max) }
            test = test.selecting(classes: classes).prefix(d.testLimit ?? Int.max)
        }
        if loadTrain { try train.checkFeeds(exampleShape: source.exampleShape, split: .train) }
        try test.checkFeeds(exampleShape: source.exampleShape, split: .test)
        return (train, test)
    }

    /// Loss and accuracy of the model as it is on the recipe's test set (evaluation mode).
    /// `loss` replaces the recipe's loss for this evaluation. `normalization` gives the
    /// statistics of `"mean": "auto"` (a checkpoint's, ``NormalizationRecord``); without them
    /// they are computed from the training split.
    public func evaluate(loss: (any Loss)? = nil, normalization: NormalizationRecord? = nil) throws -> (loss: Double, accuracy: Double, examples: Int) {
        let loader = try testLoader(normalization: normalization)
        let trainer = Trainer(model: model, loss: loss ?? self.loss, optimizer: optimizer, slots: slots, train: loader, test: nil, epochs: 0)
        let result = try trainer.evaluate(loader)
        return (result.loss, result.accuracy, loader.dataset.count)
    }

    /// The recipe's test split with its evaluation transforms; `"mean": "auto"` takes the
    /// statistics from `normalization` when given, else computes them from the training split.
    func testLoader(normalization: NormalizationRecord?) throws -> BatchLoader {
        let automatic = recipe.data.evalTransforms?.normalization == .auto
        let (trainSet, testSet) = try loadData(train: automatic && normalization == nil)
        let record = automatic ? try recipe.data.automaticNormalization(train: trainSet, recorded: normalization, runDirectory: nil) : nil
        let pipelines = recipe.data.pipelines(statistics: record?.statistics)
        return try BatchLoader(dataset: testSet, batchSize: recipe.batchSize, mode: .evaluation,
                               normalization: recipe.data.normalization, pipeline: pipelines?.eval)
    }
}
