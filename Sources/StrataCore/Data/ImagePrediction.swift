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
    /// the statistics from `normalization.json` beside the checkpoint's folder (the run
    /// directory), else computes them from the training split.
    public init(experiment: Experiment, checkpoint: String) throws {
        self.experiment = experiment
        let d = experiment.recipe.data
        guard let eval = d.evalTransforms else {
            pipeline = TransformPipeline(normalization: d.normalization.map { .fixed($0) } ?? .none)
            return
        }
        guard eval.normalization == .auto else { pipeline = eval; return }
        let folder = (checkpoint as NSString).deletingLastPathComponent
        for candidate in [folder + "/normalization.json", (folder as NSString).deletingLastPathComponent + "/normalization.json"] {
            guard let bytes = try? RegularFile.read(candidate, limit: 1 << 20), let json = try? JSONParser.parse(bytes),
                  case let .array(m)? = json["mean"], case let .array(s)? = json["std"] else { continue }
            let mean = m.compactMap { v -> Float? in if case let .number(x) = v { return Float(x) } else { return nil } }
            let std = s.compactMap { v -> Float? in if case let .number(x) = v, x > 0 { return Float(x) } else { return nil } }
            guard mean.count == experiment.source.exampleShape[0], std.count == mean.count else {
                throw DataError.invalidHeader(path: candidate, offset: 0, reason: "expected one mean and one positive std per channel (\(experiment.source.exampleShape[0]))")
            }
            pipeline = eval.resolved(statistics: .init(mean: mean, std: std))
            return
        }
        let train = try experiment.loadData(train: true).train
        pipeline = eval.resolved(statistics: train.channelStatistics())
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
