import Foundation
import Testing
@testable import StrataCore

/// The next feature cache taken from the round's own evaluations (docs/boostresnet.md §6.7)
/// against a second pass of the module: the same run either way, to the last bit of the weights.
extension BoostResNetSchemeTests {
    /// Every figure of a round's line that depends on the numbers (not timing, not memory).
    static let numericalFields = ["iterations", "chunks", "gamma_tilde_prev", "gamma_tilde", "gamma", "alpha", "z", "log_z",
                                  "train_loss", "train_acc", "test_acc", "train_acc_module", "test_acc_module"]

    static func cacheAdvance(_ rounds: [JSONObject]) -> [String] {
        rounds.map { if case let .string(s)? = $0["cache_advance"] { return s }; return "-" }
    }

    /// The saved ensemble's tensors as bit patterns (the file's metadata holds the recipe, whose
    /// cache_mb differs between the runs compared).
    static func checkpointBits(_ directory: URL) throws -> [String: [UInt32]] {
        let (tensors, _) = try SafeTensors.read(from: directory.appendingPathComponent("checkpoints/last.safetensors"))
        var bits: [String: [UInt32]] = [:]
        for t in tensors { bits[t.name] = (0..<t.tensor.count).map { t.tensor[$0].bitPattern } }
        return bits
    }

    @Test func capturingTheNextCacheDuringTheEvaluationsChangesNoBit() throws {
        let registry = try Self.registry()
        // Two steps per chunk, up to four per module, every first chunk accepted (gamma_threshold
        // -0.99): the training split's evaluation is not known to be the round's last, so its
        // outputs go to a separate buffer when cache_mb allows one, and the module runs a second
        // time over the split when it does not.
        func run(cacheMB: Int, maxIters: Int) throws -> (directory: URL, rounds: [JSONObject], final: JSONObject?) {
            try Self.run(Self.recipe(scheme: #"{"kind": "boostresnet", "check_every": 2, "max_iters": \#(maxIters), "gamma_threshold": -0.99, "rounds": 4, "cache_mb": \#(cacheMB)}"#,
                                     train: 600, test: 200), registry: registry)
        }
        let roomy = try run(cacheMB: 2048, maxIters: 4)
        // A budget that holds the widest cache but not a second buffer next to it.
        let widest = roomy.rounds.map { Self.number($0, "cache_bytes") }.max() ?? 0
        let tightMB = Int((widest / 1_048_576).rounded(.up))
        let tight = try run(cacheMB: tightMB, maxIters: 4)
        #expect(roomy.rounds.count == 4 && tight.rounds.count == 4)
        #expect(Self.cacheAdvance(roomy.rounds) == ["evaluation", "evaluation", "evaluation", "evaluation"])
        #expect(Self.cacheAdvance(tight.rounds).contains("second_pass"), "\(Self.cacheAdvance(tight.rounds))")
        for (a, b) in zip(roomy.rounds, tight.rounds) {
            for key in Self.numericalFields {
                #expect(Self.number(a, key) == Self.number(b, key) || (Self.number(a, key).isNaN && Self.number(b, key).isNaN),
                        "round \(Self.number(a, "round")) \(key): captured \(Self.number(a, key)), second pass \(Self.number(b, key))")
            }
        }
        #expect(Self.number(try #require(roomy.final), "ensemble_test_acc") == Self.number(try #require(tight.final), "ensemble_test_acc"))
        let roomyBits = try Self.checkpointBits(roomy.directory), tightBits = try Self.checkpointBits(tight.directory)
        #expect(!roomyBits.isEmpty && roomyBits == tightBits, "the saved weights differ")
        // One chunk per module: both evaluations are the round's last, so the outputs overwrite
        // the cache in place even within the tight budget, except after the stem, whose rows grow
        // (8 times) and need fresh buffers for both splits, more than the budget left.
        let single = try run(cacheMB: tightMB, maxIters: 2)
        #expect(Self.cacheAdvance(single.rounds) == ["second_pass", "evaluation", "evaluation", "evaluation"])
        try Self.expectCacheMatchesRawData(single.rounds, single.final, test: 200, examples: 1)
    }
}
