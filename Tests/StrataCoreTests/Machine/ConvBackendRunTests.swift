import Foundation
import Testing
@testable import StrataCore

/// Whole runs of a small CNN (its second convolution, 8 -> 8 channels at 14x14, goes to oneDNN
/// under the default rule): bit-for-bit reproducible with oneDNN, and a machine without oneDNN
/// (STRATA_ONEDNN_LIBRARY=none) computes exactly what the forced im2col backend does.
@Suite("Convolution backends in whole runs", .enabled(if: RecipeFixtures.hasFashionMNIST))
struct ConvBackendRunTests {
    static let recipe = MachineCommandLineTests.recipe

    /// Loss and accuracy of every epoch (not the timings).
    func figures(_ environment: [String: String]) throws -> [String] {
        let out = RecipeFixtures.temporaryDirectory("conv-backend")
        let r = try runStrata(["run", Self.recipe, "--out", out.path], environment: environment)
        #expect(r.status == 0, "\(r.err)")
        let log = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try log.split(separator: "\n").map { line in
            let o = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return ["train_loss", "train_acc", "test_loss", "test_acc"].map { "\($0)=\(o[$0] ?? "-")" }.joined(separator: " ")
        }
    }

    @Test func reproducibleAndFallsBack() throws {
        let onednn = try figures(["STRATA_CONV_BACKEND": "auto"])
        #expect(try figures(["STRATA_CONV_BACKEND": "auto"]) == onednn, "two runs with oneDNN differ")
        let im2col = try figures(["STRATA_CONV_BACKEND": "im2col"])
        #expect(try figures(["STRATA_ONEDNN_LIBRARY": "none"]) == im2col, "without oneDNN the run is not im2col's")
        #expect(!onednn.isEmpty && onednn.count == im2col.count)
        // The backends round differently: were oneDNN not running, the first check would prove nothing.
        #expect(onednn != im2col, "oneDNN's run has im2col's bits")
    }
}
