import Foundation

/// Image files made into model inputs as a recipe's evaluation data is, and the model's class
/// probabilities for them (`strata predict`).
public struct ImagePrediction {
    /// One image's classes, most probable first.
    public struct Result {
        public let path: String
        public let top: [(label: Int, name: String, probability: Double)]
    }

    public let experiment: Experiment
    /// The evaluation pipeline with its normalisation resolved.
    public let pipeline: TransformPipeline

    /// Prepares prediction with `experiment`'s evaluation transforms. `"mean": "auto"` takes
    /// the statistics the checkpoint records (``NormalizationRecord/required(by:checkpoint:metadata:channels:)``),
    /// never the data folder's as it is now.
    /// - Throws: ``CoreError/badInput(_:_:)`` when they are automatic and not recorded.
    public init(experiment: Experiment, checkpoint: String) throws {
        self.experiment = experiment
        let d = experiment.recipe.data
        guard let eval = d.evalTransforms else {
            pipeline = TransformPipeline(normalization: d.normalization.map { .fixed($0) } ?? .none)
            return
        }
        let metadata = try SafeTensors.metadata(of: URL(fileURLWithPath: checkpoint))
        let record = try NormalizationRecord.required(by: d, checkpoint: checkpoint, metadata: metadata,
                                                      channels: experiment.source.exampleShape[0])
        pipeline = record.map { eval.resolved(statistics: $0.statistics) } ?? eval
    }

    /// The `k` most probable classes of each image file.
    public func predict(paths: [String], top k: Int) throws -> [Result] {
        let stored = experiment.source.exampleShape
        let model = experiment.model
        let input = Tensor(shape: [1] + model.exampleShape)
        let names = experiment.source.classNames
        let selected = experiment.recipe.data.classes
        var results: [Result] = []
        for path in paths {
            var image = try ImageDecoder.decode(path: path, channels: stored[0])
            if image.height != stored[1] || image.width != stored[2] {
                image = Resize.apply(FloatImage(image), height: stored[1], width: stored[2]).rounded
            }
            var random = TransformPipeline.randomStream(seed: 0, epoch: 0, index: 0)
            pipeline.run(FloatImage(image), random: &random, into: input.data)
            let output = try model.forward(input, training: false)
            let scores = (0..<output.count).map { Double(output.data[$0]) }
            let top = scores.max() ?? 0
            let exps = scores.map { exp($0 - top) }
            let total = exps.reduce(0, +)
            let ranked = exps.indices.sorted { exps[$0] > exps[$1] || (exps[$0] == exps[$1] && $0 < $1) }.prefix(k)
            results.append(Result(path: path, top: ranked.map { label in
                let original = selected.map { $0[label] } ?? label
                return (label, original < names.count ? names[original] : "\(original)", exps[label] / total)
            }))
        }
        return results
    }
}
