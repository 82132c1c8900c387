import Foundation

extension Recipe.DataOptions {
    /// The training and evaluation pipelines with `"mean": "auto"` replaced by the statistics
    /// of `train` (the training split as loaded), or `nil` when the recipe lists no transforms.
    ///
    /// Automatic statistics are printed and, given a run folder, written to
    /// `normalization.json` in it.
    public func resolvedTransforms(train: ImageDataset, runDirectory: String?) throws -> (train: TransformPipeline, eval: TransformPipeline)? {
        let record = try automaticNormalization(train: train, recorded: nil, runDirectory: runDirectory)
        return pipelines(statistics: record?.statistics)
    }

    /// The pipelines with `"mean": "auto"` replaced by `statistics` when given (left automatic
    /// otherwise), or `nil` when the recipe lists no transforms.
    public func pipelines(statistics: BatchLoader.Normalization?) -> (train: TransformPipeline, eval: TransformPipeline)? {
        guard let t = trainTransforms, let e = evalTransforms else { return nil }
        guard let statistics else { return (t, e) }
        return (t.resolved(statistics: statistics), e.resolved(statistics: statistics))
    }

    /// The statistics of `"mean": "auto"` (`nil` when nothing is automatic): `recorded` when
    /// given (a resumed run keeps its checkpoint's), else computed from `train` and printed.
    /// Given a run folder, they are written to `normalization.json` in it.
    public func automaticNormalization(train: ImageDataset, recorded: NormalizationRecord?,
                                       runDirectory: String?) throws -> NormalizationRecord? {
        guard normalizesAutomatically else { return nil }
        let record: NormalizationRecord
        if let recorded {
            record = recorded
        } else {
            record = NormalizationRecord(statistics: train.channelStatistics(), examples: train.count)
            let s = record.statistics
            let text = "mean [\(s.mean.map { String(format: "%.4f", $0) }.joined(separator: ", "))], std [\(s.std.map { String(format: "%.4f", $0) }.joined(separator: ", "))]"
            FileHandle.standardError.write(Data("strata: normalize auto from \(train.count) training images: \(text)\n".utf8))
        }
        if let runDirectory {
            let path = runDirectory + "/normalization.json"
            guard FileManager.default.createFile(atPath: path, contents: Data((record.json(pretty: true) + "\n").utf8)) else {
                throw DataError.unwritable(path: path, reason: "cannot create the file")
            }
        }
        return record
    }
}
