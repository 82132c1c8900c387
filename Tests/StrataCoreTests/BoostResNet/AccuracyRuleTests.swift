import Foundation
import Testing
import BoostResNetBookkeeping

/// The accuracy rule of the reference's full training listing (docs/boostresnet.md §1.12):
/// gamma = (a - a_prev) / (1 - a) and s <- s + log(o), against the worked example of §5.4.
@Suite("BoostResNet accuracy rule")
struct AccuracyRuleTests {
    static func agrees(_ value: Double, _ expected: Double, decimals: Int = 10) -> Bool {
        abs(value - expected) <= 0.5 * pow(10.0, Double(-decimals)) + 1e-15
    }

    static func gamma(_ a: Double, _ aPrev: Double, policy: Int32 = BRN_RANGE_CLAMP) -> (status: Int32, gamma: Double, clamped: Int32) {
        var g = Double.nan
        var clamped: Int32 = -1
        let status = brn_gamma_accuracy(&g, &clamped, a, aPrev, policy, BRN_CLAMP_EPS)
        return (status, g, clamped)
    }

    @Test func gammaMatchesTheWorkedExample() throws {
        // §5.4: y = [0, 1, 2], o = §5.2's with row 2 = [0.5, 0.2, 0.3]: the module is right on rows
        // 0 and 1, so a = 2/3.
        let o: [Double] = [0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.5, 0.2, 0.3]
        var a = Double.nan
        try #require(brn_accuracy(&a, o, [0, 1, 2], 3, 3) == BRN_OK)
        #expect(Self.agrees(a, 2.0 / 3.0))
        let passed = Self.gamma(a, 0.5)
        #expect(passed.status == BRN_OK && passed.clamped == 0)
        #expect(Self.agrees(passed.gamma, 0.5))
        // Round 0 (a_prev = 0): a / (1 - a).
        #expect(Self.agrees(Self.gamma(a, 0).gamma, 2.0))
        // Accuracy falling from 2/3 to 0.6 gives a negative gamma, not NaN.
        #expect(Self.agrees(Self.gamma(0.6, a).gamma, -0.1666666667))
        // Equal accuracies: gamma = 0.
        #expect(Self.gamma(0.3, 0.3).gamma == 0)
    }

    @Test func perfectAccuracyIsClampedOrRefused() {
        let clamped = Self.gamma(1, 0.5)
        #expect(clamped.status == BRN_OK && clamped.clamped == 1 && clamped.gamma.isFinite && clamped.gamma > 1e11)
        #expect(Self.gamma(1, 0.5, policy: BRN_RANGE_ERROR).status == BRN_ERR_INVALID_ARGUMENT)
        for (a, p) in [(Double.nan, 0.5), (0.5, .nan), (-0.1, 0.5), (1.1, 0.5), (0.5, 1.5)] {
            #expect(Self.gamma(a, p).status == BRN_ERR_INVALID_ARGUMENT, "\(a), \(p)")
        }
    }

    @Test func logScoreUpdateMatchesTheWorkedExample() throws {
        var s: [Double] = [0, 0, 0, 0.5, -0.5, 0, 1, 0, -1]
        let o: [Double] = [0.6, 0.3, 0.1, 0.2, 0.5, 0.3, 0.5, 0.2, 0.3]
        var floored: Int64 = -1
        try #require(brn_update_scores_log(&s, &floored, o, 9) == BRN_OK)
        #expect(floored == 0)
        let expected = [-0.5108256238, -1.2039728043, -2.3025850930,
                        -1.1094379124, -1.1931471806, -1.2039728043,
                        0.3068528194, -1.6094379124, -2.2039728043]
        for (v, e) in zip(s, expected) { #expect(Self.agrees(v, e), "\(v) vs \(e)") }
        // The next round's cost is built from these scores: Z = 16.8704935443.
        var cost = [Double](repeating: .nan, count: 9)
        var info = brn_cost_info()
        try #require(brn_cost_matrix(&cost, &info, s, [0, 1, 2], 3, 3, BRN_COST_PLAIN) == BRN_OK)
        #expect(Self.agrees(info.z, 16.8704935443))
    }

    @Test func logScoreUpdateFloorsZeroAndRefusesInvalidOutputs() {
        var s: [Double] = [0, 0]
        var floored: Int64 = 0
        #expect(brn_update_scores_log(&s, &floored, [0, 1], 2) == BRN_OK)
        #expect(floored == 1 && s[0] == log(Double.leastNormalMagnitude) && s[1] == 0)
        for bad in [[Double.nan, 0.5], [-0.1, 0.5], [1.5, 0.5], [Double.infinity, 0.5]] {
            var t: [Double] = [0, 0]
            #expect(brn_update_scores_log(&t, nil, bad, 2) == BRN_ERR_INVALID_ARGUMENT, "\(bad)")
            #expect(t == [0, 0])
        }
    }
}
