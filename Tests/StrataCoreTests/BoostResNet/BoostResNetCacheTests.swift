import Foundation
import Testing
@testable import StrataCore

/// The frozen-feature cache: advanced in place whichever way a module changes a row's size, and
/// held in float16 at half the memory.
extension BoostResNetSchemeTests {
    /// The ensemble evaluated on raw test images (the saved model, no cache) against the
    /// bookkeeping's last figure, computed from cached features: within `examples` test images.
    static func expectCacheMatchesRawData(_ rounds: [JSONObject], _ final: JSONObject?, test: Int, examples: Int,
                                          sourceLocation: SourceLocation = #_sourceLocation) throws {
        let final = try #require(final, sourceLocation: sourceLocation)
        let cached = number(try #require(rounds.last, sourceLocation: sourceLocation), "test_acc"), raw = number(final, "ensemble_test_acc")
        #expect(abs(cached - raw) * Double(test) <= Double(examples) + 1e-9, "cached features \(cached), raw images \(raw)",
                sourceLocation: sourceLocation)
    }

    @Test func aModuleThatWidensItsRowsAdvancesTheCacheInPlaceCorrectly() throws {
        // Rows: 784 → 6272 (stem, a fresh cache) → 6272 → 3136 (narrowed) → 6272 (widened within
        // the capacity already held: in place, last batch first) → 6272.
        func block(_ c: Int, projection: Bool) -> String {
            let shortcut = projection ? #", "shortcut": {"kind": "conv2d", "out_channels": \#(c), "kernel_size": 1, "bias": false}"# : ""
            return #"{"kind": "residual", "body": {"kind": "sequential", "layers": [{"kind": "conv2d", "out_channels": \#(c), "kernel_size": 3, "padding": 1}, {"kind": "batchnorm2d"}]}\#(shortcut)}"#
        }
        let model = """
        {"kind": "sequential", "layers": [
          {"kind": "conv2d", "name": "stem", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"kind": "relu"},
          \(block(8, projection: false)), \(block(4, projection: true)), \(block(8, projection: true)), \(block(8, projection: false)),
          {"kind": "adaptive_avgpool2d"}, {"kind": "flatten"}, {"kind": "linear", "out_features": 10}]}
        """
        let text = Self.recipe(scheme: #"{"kind": "boostresnet", "check_every": 30, "max_iters": 30}"#, train: 1000, test: 300)
            .replacingOccurrences(of: #"{"kind": "resnet_small", "widths": [8, 16], "stem_channels": 8, "classes": 10}"#, with: model)
        let (_, rounds, final) = try Self.run(text, registry: try Self.registry())
        // Logged while each module trains: the raw images first, then the widest row's capacity throughout.
        #expect(rounds.map { Self.number($0, "cache_bytes") } == [1300 * 784 * 4, 1300 * 6272 * 4, 1300 * 6272 * 4, 1300 * 6272 * 4, 1300 * 6272 * 4].map(Double.init))
        try Self.expectCacheMatchesRawData(rounds, final, test: 300, examples: 1)
        #expect(Self.number(try #require(rounds.last), "test_acc") > 0.5)
    }

    @Test func aFloat16CacheHalvesTheMemoryAndKeepsTheFigures() throws {
        let registry = try Self.registry()
        func run(_ dtype: String) throws -> (rounds: [JSONObject], final: JSONObject?) {
            let text = Self.recipe(scheme: #"{"kind": "boostresnet", "score_update": "cumulative", "check_every": 40, "max_iters": 40, "rounds": 3, "cache_dtype": "\#(dtype)"}"#,
                                   train: 2000, test: 500)
            let (_, rounds, final) = try Self.run(text, registry: registry)
            return (rounds, final)
        }
        let single = try run("float32"), half = try run("float16")
        #expect(half.rounds.count == 3 && single.rounds.count == 3)
        for (a, b) in zip(single.rounds, half.rounds) {
            #expect(Self.number(b, "cache_bytes") * 2 == Self.number(a, "cache_bytes"), "\(Self.number(b, "cache_bytes")) vs \(Self.number(a, "cache_bytes"))")
            #expect(abs(Self.number(a, "test_acc") - Self.number(b, "test_acc")) <= 0.03,
                    "round \(Self.number(a, "round")): float32 \(Self.number(a, "test_acc")), float16 \(Self.number(b, "test_acc"))")
        }
        // The saved ensemble runs in float32 on raw images; float16 features change a few predictions at most.
        try Self.expectCacheMatchesRawData(half.rounds, half.final, test: 500, examples: 5)
        #expect(Self.number(try #require(half.rounds.last), "test_acc") > 0.7)
    }
}
