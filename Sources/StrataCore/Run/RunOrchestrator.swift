import CStrataKernels
import Foundation

extension Experiment {
    /// Runs the recipe: creates the run directory (when `directory` is given) and writes
    /// `recipe.json`, loads the data, restores a checkpoint to resume from, makes the callbacks in
    /// their run order, hands everything to the training scheme, and writes `summary.json`.
    public func run(directory: URL?, recipeText: String, extraCallbacks: [any Callback] = []) throws -> RunSummary {
        let runDirectory = try directory.map(RunDirectory.init)
        try runDirectory?.writeRecipe(recipe.json)
        let (trainSet, testSet) = try loadData(cacheDirectory: runDirectory?.cache.path)
        let skipped = try SkippedFiles.record(skipBad: recipe.data.skipBad, train: trainSet, test: testSet, runDirectory: runDirectory?.path)
        let checkpointer = Checkpointer(model: model, optimizer: optimizer, recipeText: recipeText)
        var firstEpoch = 1
        if let resume = recipe.resume {
            firstEpoch = try checkpointer.resume(from: URL(fileURLWithPath: resume), epochs: recipe.epochs, allowNonFinite: recipe.allowNonFinite)
        }
        // "mean": "auto": a resumed run keeps the statistics its checkpoint records; every
        // checkpoint records them (strata.normalization) for `strata eval` and `strata predict`.
        let recorded = try recipe.resume.flatMap {
            try NormalizationRecord.inCheckpoint(checkpointer.resumedMetadata, path: $0, channels: source.exampleShape[0])
        }
        let normalization = try recipe.data.automaticNormalization(train: trainSet, recorded: recorded, runDirectory: runDirectory?.path)
        if let normalization {
            let text = normalization.json()
            checkpointer.stateProviders.append((NormalizationRecord.metadataKey, { text }))
        }
        // Callbacks see the model the loop trains; a plugin scheme trains models of its own.
        var resources = RunResources(runDirectory: runDirectory, checkpointer: checkpointer,
                                     model: scheme is PluginSchemeInstance ? nil : model)
        resources.modelGraph = ModelBuilder(registry: registry, diagnostics: Diagnostics()).expanded(recipe.model, path: "$")?
            .serialized(pretty: false) ?? recipe.model.serialized(pretty: false)
        let callbacks = try makeCallbacks(resources) + extraCallbacks
        var context = RunContext(experiment: self, train: trainSet, test: testSet, callbacks: Self.ordered(callbacks),
                                 directory: runDirectory, firstEpoch: firstEpoch)
        context.transforms = recipe.data.pipelines(statistics: normalization?.statistics)
        let outcome = try scheme.train(context)
        let summary = RunSummary(records: outcome.records, trainSeconds: outcome.trainSeconds,
                                 examplesPerSecond: outcome.examplesPerSecond, peakRSSBytes: sk_peak_rss_bytes(),
                                 runDirectory: directory)
        var reported = outcome
        if let skipped { reported.summaryFields.append(skipped) }
        for case let contributor as any SummaryContributor in callbacks { reported.summaryFields += contributor.summaryFields }
        try runDirectory?.writeSummary(summaryJSON(summary, reported))
        return summary
    }

    /// The recipe's callbacks, or the scheme's defaults when the recipe lists none.
    func makeCallbacks(_ resources: RunResources) throws -> [any Callback] {
        let specs = recipe.callbacks ?? Recipe.callbackSpecs(kinds: scheme.defaultCallbackKinds, registry: registry)
        return try specs.compactMap { try $0.make(resources) }
    }

    /// Callbacks in their run order (docs/recipes.md, "Callback order"): by `order` — schedules,
    /// then the others, then the writers — and in recipe order within each.
    static func ordered(_ callbacks: [any Callback]) -> [any Callback] {
        callbacks.enumerated().sorted { ($0.element.order, $0.offset) < ($1.element.order, $1.offset) }.map(\.element)
    }

    func summaryJSON(_ s: RunSummary, _ outcome: SchemeOutcome) -> JSONValue {
        let last = s.final
        var fields: [(String, JSONValue)] = [
            ("name", .string(recipe.name)),
            ("scheme", .string(scheme.kind)),
            ("epochs_run", .number(Double(s.records.count))),
            ("test_acc", jsonNumber(outcome.testAccuracy ?? last?.testAccuracy ?? .nan)),
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
        ]
        fields += outcome.summaryFields
        return .object(JSONObject(fields))
    }
}
