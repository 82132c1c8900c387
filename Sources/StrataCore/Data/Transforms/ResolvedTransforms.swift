import Foundation

extension Recipe.DataOptions {
    /// The training and evaluation pipelines with `"mean": "auto"` replaced by the statistics
    /// of `train` (the training split as loaded), or `nil` when the recipe lists no transforms.
    ///
    /// Automatic statistics are printed and, given a run folder, written to
    /// `normalization.json` in it, so evaluation and prediction can use the same values.
    public func resolvedTransforms(train: ImageDataset, runDirectory: String?) throws -> (train: TransformPipeline, eval: TransformPipeline)? {
        guard let t = trainTransforms, let e = evalTransforms else { return nil }
        guard t.normalization == .auto || e.normalization == .auto else { return (t, e) }
        let statistics = train.channelStatistics()
        let text = "mean [\(statistics.mean.map { String(format: "%.4f", $0) }.joined(separator: ", "))], std [\(statistics.std.map { String(format: "%.4f", $0) }.joined(separator: ", "))]"
        FileHandle.standardError.write(Data("strata: normalize auto from \(train.count) training images: \(text)\n".utf8))
        if let runDirectory {
            let record: JSONValue = .object(JSONObject([
                ("mean", .array(statistics.mean.map { .number(Double($0)) })),
                ("std", .array(statistics.std.map { .number(Double($0)) })),
                ("examples", .number(Double(train.count))),
            ]))
            let path = runDirectory + "/normalization.json"
            guard FileManager.default.createFile(atPath: path, contents: Data((record.serialized(pretty: true) + "\n").utf8)) else {
                throw DataError.unwritable(path: path, reason: "cannot create the file")
            }
        }
        return (t.resolved(statistics: statistics), e.resolved(statistics: statistics))
    }
}
