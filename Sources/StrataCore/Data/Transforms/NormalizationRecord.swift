import Foundation

/// The statistics of a `"mean": "auto"` normalisation as a run records them: `normalization.json`
/// in the run directory and the checkpoint metadata entry `strata.normalization` (the same JSON,
/// `{"mean": [...], "std": [...], "examples": n}`), so `strata eval` and `strata predict` use the
/// values the model was trained with, whatever the data folder holds by then.
public struct NormalizationRecord: Sendable, Equatable {
    /// The checkpoint metadata key.
    public static let metadataKey = "strata.normalization"

    /// Per-channel mean and standard deviation on the 0...1 scale.
    public var statistics: BatchLoader.Normalization
    /// Training images they were computed from.
    public var examples: Int

    public init(statistics: BatchLoader.Normalization, examples: Int) {
        self.statistics = statistics
        self.examples = examples
    }

    /// The record as JSON text (numbers in the shortest form that reads back as the same float).
    public func json(pretty: Bool = false) -> String {
        JSONValue.object(JSONObject([
            ("mean", .array(statistics.mean.map { .number(Double($0)) })),
            ("std", .array(statistics.std.map { .number(Double($0)) })),
            ("examples", .number(Double(examples))),
        ])).serialized(pretty: pretty)
    }

    /// Reads a record from `text`; `source` names where it came from in errors.
    /// - Throws: ``CoreError/badInput(_:_:)`` unless it holds one mean and one positive, finite
    ///   std per channel of `channels`.
    public static func parse(_ text: String, channels: Int, source: String, place: CoreError.Place) throws -> NormalizationRecord {
        func refuse(_ why: String) -> CoreError {
            .badInput(place, "\(source): \(why); expected {\"mean\": [...], \"std\": [...]} with one value per channel (\(channels))")
        }
        let json: JSONValue
        do { json = try JSONParser.parse(text) } catch { throw refuse("not valid JSON (\(error))") }
        func numbers(_ key: String) throws -> [Float] {
            guard case let .array(values)? = json[key] else { throw refuse("no \"\(key)\" array") }
            return try values.map { v in
                guard case let .number(x) = v, x.isFinite, abs(x) <= 1e6 else { throw refuse("\"\(key)\" holds a value that is not a finite number") }
                return Float(x)
            }
        }
        let mean = try numbers("mean"), std = try numbers("std")
        guard mean.count == channels, std.count == channels else {
            throw refuse("\(mean.count) means and \(std.count) stds for images of \(channels) channel\(channels == 1 ? "" : "s")")
        }
        guard std.allSatisfy({ $0 > 0 }) else { throw refuse("a std is not greater than 0") }
        var examples = 0
        if case let .number(n)? = json["examples"], n.isFinite, n >= 0, n < 1e15 { examples = Int(n) }
        return NormalizationRecord(statistics: .init(mean: mean, std: std), examples: examples)
    }

    /// The record in a checkpoint's metadata, or `nil` when it has none.
    public static func inCheckpoint(_ metadata: [String: String], path: String, channels: Int) throws -> NormalizationRecord? {
        guard let text = metadata[metadataKey] else { return nil }
        return try parse(text, channels: channels, source: "\(path): the metadata \(metadataKey)", place: .file(path))
    }

    /// The statistics `strata eval` and `strata predict` normalise with when `data` asks for
    /// `"mean": "auto"`: the checkpoint's record, else `normalization.json` of the run directory
    /// the checkpoint lies in (`<run>/checkpoints/<name>.safetensors`, or beside it). `nil` when
    /// the evaluation transforms are not automatic.
    ///
    /// - Throws: ``CoreError/badInput(_:_:)`` when the statistics are automatic and neither
    ///   holds them: recomputing them from the data folder as it is now could normalise
    ///   differently from training without a word, so the user must give them.
    public static func required(by data: Recipe.DataOptions, checkpoint: String, metadata: [String: String],
                                channels: Int) throws -> NormalizationRecord? {
        guard data.evalTransforms?.normalization == .auto else { return nil }
        if let record = try inCheckpoint(metadata, path: checkpoint, channels: channels) { return record }
        let folder = (checkpoint as NSString).deletingLastPathComponent
        for candidate in [folder + "/normalization.json", (folder as NSString).deletingLastPathComponent + "/normalization.json"] {
            guard let bytes = try? RegularFile.read(candidate, limit: 1 << 20) else { continue }
            return try parse(String(decoding: bytes, as: UTF8.self), channels: channels, source: candidate, place: .file(candidate))
        }
        throw CoreError.badInput(.file(checkpoint), "\(checkpoint): the recipe normalises with \"mean\": \"auto\" but the checkpoint records no "
            + "statistics (metadata \(metadataKey)) and its run directory holds no normalization.json; give the mean and std in the "
            + "recipe's normalize step, or use a checkpoint of a run that computed them")
    }
}

extension Recipe.DataOptions {
    /// Whether a transform list normalises with `"mean": "auto"`.
    public var normalizesAutomatically: Bool {
        trainTransforms?.normalization == .auto || evalTransforms?.normalization == .auto
    }
}
