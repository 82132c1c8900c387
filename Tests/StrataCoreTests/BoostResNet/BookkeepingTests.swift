import Foundation
import Testing
import BoostResNetBookkeeping
@testable import StrataCore

/// BoostResNet's bookkeeping (Plugins/boostresnet) against the worked examples of the
/// specification, docs/boostresnet.md (§5.2 multi-class, §5.3 binary), and a few properties.
@Suite("BoostResNet bookkeeping")
struct BookkeepingTests {
    // MARK: helpers

    /// True when `value` rounds to `expected` at `decimals` decimal places (the digits the
    /// specification prints).
    static func agrees(_ value: Double, _ expected: Double, decimals: Int = 10) -> Bool {
        abs(value - expected) <= 0.5 * pow(10.0, Double(-decimals)) + 1e-15
    }

    static func agrees(_ values: [Double], _ expected: [Double], decimals: Int = 10) -> Bool {
        values.count == expected.count && zip(values, expected).allSatisfy { agrees($0, $1, decimals: decimals) }
    }

    struct Cost {
        var matrix: [Double]
        var info: brn_cost_info
    }

    static func cost(_ s: [Double], _ y: [Int32], k: Int, mode: Int32 = BRN_COST_AUTO) throws -> Cost {
        var matrix = [Double](repeating: .nan, count: s.count)
        var info = brn_cost_info()
        let status = brn_cost_matrix(&matrix, &info, s, y, Int64(y.count), Int64(k), mode)
        try #require(status == BRN_OK, "brn_cost_matrix: \(String(cString: brn_status_string(status)))")
        return Cost(matrix: matrix, info: info)
    }

    static func edge(_ o: [Double], _ cost: [Double], _ y: [Int32], k: Int) throws -> Double {
        var g = Double.nan
        try #require(brn_edge(&g, o, cost, y, Int64(y.count), Int64(k)) == BRN_OK)
        return g
    }

    static func gamma(_ gt: Double, prev: Double) throws -> Double {
        var g = Double.nan
        var clamped: Int32 = -1
        try #require(brn_gamma(&g, &clamped, gt, prev, BRN_RANGE_CLAMP, BRN_CLAMP_EPS) == BRN_OK)
        #expect(clamped == 0)
        return g
    }

    static func alpha(_ gt: Double) throws -> Double {
        var a = Double.nan
        var clamped: Int32 = -1
        try #require(brn_alpha(&a, &clamped, gt, BRN_RANGE_CLAMP, BRN_CLAMP_EPS) == BRN_OK)
        #expect(clamped == 0)
        return a
    }

    static func row(_ m: [Double], _ i: Int, k: Int) -> [Double] { Array(m[(i * k)..<(i * k + k)]) }

    // MARK: §5.2

    static let y: [Int32] = [0, 1, 2]
    static let s: [Double] = [0.0, 0.0, 0.0,
                              0.5, -0.5, 0.0,
                              1.0, 0.0, -1.0]
    static let o: [Double] = [0.6, 0.3, 0.1,
                              0.2, 0.5, 0.3,
                              0.1, 0.2, 0.7]

    @Test func multiclassCostZAndEdgeMatchTheWorkedExample() throws {
        let c = try Self.cost(Self.s, Self.y, k: 3)
        #expect(c.info.log_scale == 0)
        #expect(Self.row(c.matrix, 0, k: 3) == [-2, 1, 1])
        #expect(Self.agrees(Self.row(c.matrix, 1, k: 3), [2.7182818285, -4.3670030992, 1.6487212707]))
        #expect(Self.agrees(Self.row(c.matrix, 2, k: 3), [7.3890560989, 2.7182818285, -10.1073379274]))
        #expect(Self.agrees(c.info.z, 16.4743410265))
        #expect(Self.agrees(c.info.z_scaled, 16.4743410265))
        #expect(Self.agrees(c.info.log_z, log(16.4743410265), decimals: 9))

        let rowProducts = (0..<3).map { i in (0..<3).reduce(0.0) { $0 + Self.o[i * 3 + $1] * c.matrix[i * 3 + $1] } }
        #expect(Self.agrees(rowProducts, [-0.8, -1.1452288027, -5.7925745736]))
        #expect(Self.agrees(rowProducts.reduce(0, +), -7.7378033763))

        let gt = try Self.edge(Self.o, c.matrix, Self.y, k: 3)
        #expect(Self.agrees(gt, 0.4696881875))
        // Both forms of the edge agree: -sum o*C / Z.
        #expect(abs(gt - (-rowProducts.reduce(0, +) / c.info.z)) < 1e-14)
        #expect(Self.agrees(try Self.alpha(gt), 0.5096701904))

        #expect(Self.agrees(try Self.gamma(gt, prev: 0.3), 0.3788458375))
        #expect(Self.agrees(try Self.gamma(gt, prev: BRN_GAMMA_FIRST_REFERENCE), -0.1979663492))
        #expect(Self.agrees(try Self.gamma(gt, prev: BRN_GAMMA_FIRST_PAPER), 0.4696881875))
        #expect(Self.agrees(gt * gt, 0.2206070, decimals: 7))
    }

    @Test func multiclassScoreUpdatesMatchTheWorkedExample() throws {
        let c = try Self.cost(Self.s, Self.y, k: 3)
        let a = try Self.alpha(try Self.edge(Self.o, c.matrix, Self.y, k: 3))

        // Cumulative (reference code): s <- s + alpha o.
        var cumulative = Self.s
        #expect(brn_update_scores(&cumulative, Self.o, a, 9, BRN_UPDATE_CUMULATIVE) == BRN_OK)
        #expect(Self.agrees(cumulative, [0.3058021142, 0.1529010571, 0.0509670190,
                                         0.6019340381, -0.2451649048, 0.1529010571,
                                         1.0509670190, 0.1019340381, -0.6432308667]))
        var pred = [Int32](repeating: -1, count: 3)
        #expect(brn_predict(&pred, cumulative, 3, 3) == BRN_OK)
        #expect(pred == [0, 0, 0])
        var accuracy = Double.nan
        #expect(brn_accuracy(&accuracy, cumulative, Self.y, 3, 3) == BRN_OK)
        #expect(accuracy == 1.0 / 3.0)
        let next = try Self.cost(cumulative, Self.y, k: 3)
        #expect(Self.agrees(Self.row(next.matrix, 0, k: 3), [-1.6332589278, 0.8582146318, 0.7750442960]))
        #expect(Self.agrees(next.info.z, 13.0041381172))

        // Telescoping (paper): s <- alpha o.
        var telescoping = Self.s
        #expect(brn_update_scores(&telescoping, Self.o, a, 9, BRN_UPDATE_TELESCOPING) == BRN_OK)
        #expect(telescoping == Self.o.map { a * $0 })
        let nextT = try Self.cost(telescoping, Self.y, k: 3)
        #expect(Self.agrees(nextT.info.z, 4.9061393291))
        #expect(Self.agrees(Self.row(nextT.matrix, 1, k: 3), [0.8582146318, -1.7613037510, 0.9030891192]))
    }

    @Test func multiclassRoundZeroClosedForm() throws {
        let zero = [Double](repeating: 0, count: 9)
        let c = try Self.cost(zero, Self.y, k: 3)
        #expect(c.info.z == 6) // n (C - 1)
        let gt = try Self.edge(Self.o, c.matrix, Self.y, k: 3)
        #expect(Self.agrees(gt, 0.4))
        let meanTrue = (0.6 + 0.5 + 0.7) / 3
        #expect(abs(gt - (3 * meanTrue - 1) / 2) < 1e-15)
        #expect(Self.agrees(try Self.alpha(gt), 0.4236489302))
        #expect(Self.agrees(try Self.gamma(gt, prev: BRN_GAMMA_FIRST_REFERENCE), -0.3464101615))
    }

    @Test func multiclassInvariances() throws {
        let c = try Self.cost(Self.s, Self.y, k: 3)
        // Adding a constant to each row of s changes neither the cost nor Z.
        var shifted = Self.s
        for (i, shift) in [3.25, -7.5, 100.0].enumerated() { for l in 0..<3 { shifted[i * 3 + l] += shift } }
        let c2 = try Self.cost(shifted, Self.y, k: 3)
        #expect(zip(c.matrix, c2.matrix).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($0)) })
        #expect(abs(c.info.z - c2.info.z) <= 1e-12 * c.info.z)
        // The edge as the cost-weighted margin of the true class.
        var margin = 0.0
        for i in 0..<3 {
            let yi = Int(Self.y[i])
            for l in 0..<3 where l != yi { margin += c.matrix[i * 3 + l] * (Self.o[i * 3 + yi] - Self.o[i * 3 + l]) }
        }
        #expect(Self.agrees(margin / c.info.z, 0.4696881875))
        // The shifted cost (largest off-label entry 1) gives the same edge and log Z.
        let c3 = try Self.cost(Self.s, Self.y, k: 3, mode: BRN_COST_SHIFT_MAX)
        #expect(c3.info.log_scale == 2)
        #expect(abs(c3.info.log_z - c.info.log_z) < 1e-14)
        #expect(abs(try Self.edge(Self.o, c3.matrix, Self.y, k: 3) - (try Self.edge(Self.o, c.matrix, Self.y, k: 3))) < 1e-15)
    }

    @Test func multiclassRoundWithBothOptionSets() throws {
        var record = brn_round_record()
        var cost = [Double](repeating: 0, count: 9)

        var s = Self.s
        var reference = brn_options_reference()
        #expect(reference.gamma_first == 0.5 && reference.score_update == BRN_UPDATE_CUMULATIVE)
        #expect(brn_multiclass_round(&record, &s, &cost, Self.o, Self.y, 3, 3, reference.gamma_first, &reference) == BRN_OK)
        #expect(Self.agrees(record.cost.z, 16.4743410265))
        #expect(Self.agrees(record.gamma_tilde, 0.4696881875))
        #expect(Self.agrees(record.gamma, -0.1979663492))
        #expect(Self.agrees(record.alpha, 0.5096701904))
        #expect(record.clamped == 0 && record.gamma_tilde_prev == 0.5)
        #expect(Self.agrees(Self.row(s, 2, k: 3), [1.0509670190, 0.1019340381, -0.6432308667]))

        var t = Self.s
        var paper = brn_options_paper()
        #expect(paper.gamma_first == 0 && paper.score_update == BRN_UPDATE_TELESCOPING)
        #expect(brn_multiclass_round(&record, &t, &cost, Self.o, Self.y, 3, 3, paper.gamma_first, &paper) == BRN_OK)
        #expect(Self.agrees(record.gamma, 0.4696881875))
        #expect(Self.agrees(try Self.cost(t, Self.y, k: 3).info.z, 4.9061393291))
    }

    // MARK: §5.3

    @Test func binaryStepMatchesTheWorkedExample() throws {
        let y: [Int32] = [1, -1, 1, -1]
        let alphaT = 0.8
        let oT = [0.5, -0.2, -0.4, 0.1]
        let gtT = 0.25
        let oNext = [0.7, -0.6, 0.2, -0.3]

        var d = [Double](repeating: .nan, count: 4)
        #expect(brn_binary_weights(&d, y, oT, alphaT, 4) == BRN_OK)
        #expect(Self.agrees(d, [0.1683003933, 0.2139517320, 0.3457619173, 0.2719859575]))

        var gt = Double.nan
        #expect(brn_binary_edge(&gt, d, y, oNext, 4) == BRN_OK)
        #expect(Self.agrees(gt, 0.3969294852))
        #expect(Self.agrees(gt * gt, 0.157553, decimals: 6))
        #expect(Self.agrees(try Self.gamma(gt, prev: gtT), 0.3184177821))
        let alphaNext = try Self.alpha(gt)
        #expect(Self.agrees(alphaNext, 0.4199988761))

        var h = [Double](repeating: .nan, count: 4)
        #expect(brn_weak_classifier(&h, oNext, alphaNext, oT, alphaT, 4) == BRN_OK)
        #expect(Self.agrees(h, [-0.1060007867, -0.0919993257, 0.4039997752, -0.2059996628]))

        var dNext = [Double](repeating: .nan, count: 4)
        #expect(brn_binary_reweight(&dNext, d, y, h, 4) == BRN_OK)
        #expect(Self.agrees(dNext, [0.2242399931, 0.2338586245, 0.2766398042, 0.2652615782]))

        // The telescoping identity: D_{t+1} is the normalised exp(-y alpha_{t+1} o_{t+1}).
        var direct = [Double](repeating: .nan, count: 4)
        #expect(brn_binary_weights(&direct, y, oNext, alphaNext, 4) == BRN_OK)
        #expect(zip(direct, dNext).allSatisfy { abs($0 - $1) < 1e-15 })

        // D_0 is uniform; the telescoped score is alpha_{t+1} o_{t+1}.
        var d0 = [Double](repeating: .nan, count: 4)
        #expect(brn_binary_weights(&d0, y, nil, 0, 4) == BRN_OK)
        #expect(d0 == [0.25, 0.25, 0.25, 0.25])
        var score = oT.map { alphaT * $0 }
        #expect(brn_update_scores(&score, oNext, alphaNext, 4, BRN_UPDATE_TELESCOPING) == BRN_OK)
        var pred = [Int32](repeating: 0, count: 4)
        var accuracy = Double.nan
        #expect(brn_binary_predict(&pred, &accuracy, score, y, 4) == BRN_OK)
        #expect(pred == [1, -1, 1, -1] && accuracy == 1)
    }

    @Test func binaryWeightsStayFiniteForHugeScores() throws {
        let y: [Int32] = [1, -1, 1, -1]
        var d = [Double](repeating: .nan, count: 4)
        #expect(brn_binary_weights(&d, y, [-1, 1, 0.5, -0.5], 1e4, 4) == BRN_OK)
        #expect(d.allSatisfy { $0.isFinite } && abs(d.reduce(0, +) - 1) < 1e-15)
        #expect(abs(d[0] - 0.5) < 1e-15 && abs(d[1] - 0.5) < 1e-15)
        var logLoss = Double.nan
        #expect(brn_binary_log_loss(&logLoss, y, [-1e4, 1e4, 3, -3], 4) == BRN_OK)
        #expect(abs(logLoss - (1e4 + log(0.5))) < 1e-9)
    }

    // MARK: properties

    @Test func everyCostRowSumsToZeroOnRandomScores() throws {
        var g = RandomStream(seed: 0x5EED)
        for (trial, scale) in [1.0, 10.0, 300.0, 1e3, 1e4, 1e4].enumerated() {
            let n = 50, k = 2 + trial
            let s = (0..<(n * k)).map { _ -> Double in -scale + 2 * scale * g.nextDouble() }
            let y = (0..<n).map { _ -> Int32 in Int32(g.below(k)) }
            for mode in [BRN_COST_AUTO, BRN_COST_SHIFT_MAX] {
                let c = try Self.cost(s, y, k: k, mode: mode)
                #expect(c.matrix.allSatisfy { $0.isFinite })
                #expect(c.info.log_z.isFinite && c.info.z_scaled.isFinite && c.info.z_scaled > 0)
                for i in 0..<n {
                    let r = Self.row(c.matrix, i, k: k)
                    let magnitude = r.reduce(0) { $0 + abs($1) }
                    #expect(abs(r.reduce(0, +)) <= 1e-12 * magnitude, "row \(i), scale \(scale)")
                    #expect(r[Int(y[i])] <= 0)
                }
                if mode == BRN_COST_SHIFT_MAX {
                    let offLabelMax = (0..<n).flatMap { i in (0..<k).filter { $0 != Int(y[i]) }.map { c.matrix[i * k + $0] } }.max()
                    #expect(offLabelMax == 1)
                }
                // The edge of a class softmax stays a finite number in [-1, 1].
                var o = [Double](repeating: 0, count: n * k)
                #expect(brn_softmax_classes(&o, s.map { $0 / scale }, Int64(n), Int64(k)) == BRN_OK)
                let gt = try Self.edge(o, c.matrix, y, k: k)
                #expect(gt.isFinite && abs(gt) <= 1)
            }
            // In plain mode, huge scores are refused rather than overflowing.
            if scale >= 1e3 {
                var matrix = [Double](repeating: 0, count: n * k)
                var info = brn_cost_info()
                #expect(brn_cost_matrix(&matrix, &info, s, y, Int64(n), Int64(k), BRN_COST_PLAIN) == BRN_ERR_INVALID_ARGUMENT)
            }
        }
    }

    @Test func zFallsWhenAModuleWithPositiveEdgeIsAdded() throws {
        var g = RandomStream(seed: 42)
        for scale in [0.0, 1.0, 5.0, 1e4] {
            for _ in 0..<5 {
                let n = 40, k = 4
                var s = (0..<(n * k)).map { _ -> Double in -scale + 2 * scale * g.nextDouble() }
                let y = (0..<n).map { _ -> Int32 in Int32(g.below(k)) }
                // Logits whose true class is the largest in every row, so every margin
                // o[i][y_i] - o[i][l] and hence the edge is positive whatever the cost weights.
                var logits = (0..<(n * k)).map { _ -> Double in -1 + 2 * g.nextDouble() }
                for i in 0..<n { logits[i * k + Int(y[i])] += 2.5 }
                var o = [Double](repeating: 0, count: n * k)
                #expect(brn_softmax_classes(&o, logits, Int64(n), Int64(k)) == BRN_OK)
                let before = try Self.cost(s, y, k: k)
                let gt = try Self.edge(o, before.matrix, y, k: k)
                try #require(gt > 0)
                let a = try Self.alpha(gt)
                #expect(brn_update_scores(&s, o, a, Int64(n * k), BRN_UPDATE_CUMULATIVE) == BRN_OK)
                let after = try Self.cost(s, y, k: k)
                #expect(after.info.log_z < before.info.log_z)
                // AdaBoost.MM bound: Z' <= Z sqrt(1 - gt^2).
                #expect(after.info.log_z <= before.info.log_z + 0.5 * log(1 - gt * gt) + 1e-9)
            }
        }
    }

    // MARK: safety and options

    @Test func edgesOutsideTheOpenIntervalAreClampedOrRefused() {
        var a = Double.nan
        var clamped: Int32 = 0
        #expect(brn_alpha(&a, &clamped, 1.0, BRN_RANGE_CLAMP, BRN_CLAMP_EPS) == BRN_OK)
        #expect(a.isFinite && a > 13 && clamped == 1)
        #expect(brn_alpha(&a, &clamped, -3.0, BRN_RANGE_CLAMP, BRN_CLAMP_EPS) == BRN_OK)
        #expect(a.isFinite && a < -13 && clamped == 1)
        a = 7
        #expect(brn_alpha(&a, &clamped, 1.0, BRN_RANGE_ERROR, BRN_CLAMP_EPS) == BRN_ERR_INVALID_ARGUMENT)
        #expect(a == 7)
        #expect(brn_alpha(&a, nil, .nan, BRN_RANGE_CLAMP, BRN_CLAMP_EPS) == BRN_ERR_INVALID_ARGUMENT)

        var gamma = Double.nan
        #expect(brn_gamma(&gamma, &clamped, 0.5, 1.0, BRN_RANGE_CLAMP, BRN_CLAMP_EPS) == BRN_OK)
        #expect(gamma.isFinite && gamma < 0 && clamped == 1)
        #expect(brn_gamma(&gamma, &clamped, 0.1, 0.9, BRN_RANGE_CLAMP, BRN_CLAMP_EPS) == BRN_OK)
        #expect(gamma < 0 && clamped == 0)
        #expect(brn_gamma(&gamma, nil, 0.5, -1.0, BRN_RANGE_ERROR, BRN_CLAMP_EPS) == BRN_ERR_INVALID_ARGUMENT)
    }

    @Test func badArgumentsReturnAStatus() {
        var cost = [Double](repeating: 0, count: 9)
        var info = brn_cost_info()
        #expect(brn_cost_matrix(&cost, &info, Self.s, [0, 1, 3], 3, 3, BRN_COST_AUTO) == BRN_ERR_INVALID_ARGUMENT)
        #expect(brn_cost_matrix(&cost, &info, Self.s, Self.y, 3, 1, BRN_COST_AUTO) == BRN_ERR_INVALID_ARGUMENT)
        #expect(brn_cost_matrix(&cost, &info, Self.s, Self.y, 0, 3, BRN_COST_AUTO) == BRN_ERR_INVALID_ARGUMENT)
        #expect(brn_cost_matrix(nil, &info, Self.s, Self.y, 3, 3, BRN_COST_AUTO) == BRN_ERR_INVALID_ARGUMENT)
        var withNaN = Self.s
        withNaN[4] = .nan
        #expect(brn_cost_matrix(&cost, &info, withNaN, Self.y, 3, 3, BRN_COST_AUTO) == BRN_ERR_INVALID_ARGUMENT)
        #expect(brn_cost_matrix(&cost, &info, Self.s, Self.y, 3, 3, 99) == BRN_ERR_INVALID_ARGUMENT)
        var d = [Double](repeating: 0, count: 2)
        #expect(brn_binary_weights(&d, [1, 0], [0.1, 0.2], 1, 2) == BRN_ERR_INVALID_ARGUMENT)
        #expect(brn_binary_reweight(&d, [0, 0], [1, -1], [0.1, 0.2], 2) == BRN_ERR_INVALID_ARGUMENT)
        var s = Self.s
        #expect(brn_update_scores(&s, Self.o, .infinity, 9, BRN_UPDATE_CUMULATIVE) == BRN_ERR_INVALID_ARGUMENT)
        #expect(s == Self.s)
        #expect(String(cString: brn_status_string(BRN_ERR_INVALID_ARGUMENT)).hasPrefix("invalid argument"))
    }

    @Test func stoppingRules() {
        let thresh = BRN_GAMMA_THRESH_REFERENCE
        // Reference defaults (checkEvery = maxIters = 10000): exactly one chunk, whatever gamma is.
        #expect(brn_train_another_chunk(-1, thresh, 10000, 0, 10000) == 1)
        #expect(brn_train_another_chunk(-0.5, thresh, 10000, 1, 10000) == 0)
        // maxIters = 3 * checkEvery: up to three chunks while gamma stays below the threshold.
        #expect(brn_train_another_chunk(-0.5, thresh, 10000, 1, 30000) == 1)
        #expect(brn_train_another_chunk(-0.5, thresh, 10000, 2, 30000) == 1)
        #expect(brn_train_another_chunk(-0.5, thresh, 10000, 3, 30000) == 0)
        #expect(brn_train_another_chunk(-0.5, thresh, 10000, 2, 25000) == 1)
        #expect(brn_train_another_chunk(-0.5, thresh, 10000, 3, 25000) == 0)
        #expect(brn_train_another_chunk(-0.00005, thresh, 10000, 1, 30000) == 0) // accepted
        #expect(brn_train_another_chunk(.nan, thresh, 10000, 1, 30000) == 1)
        #expect(brn_train_another_chunk(-0.5, thresh, 0, 1, 30000) == 0)
        // Paper: add blocks while gamma_t > threshold, up to a cap; the first always runs.
        #expect(brn_add_another_block(-1, 0.01, 0, 25) == 1)
        #expect(brn_add_another_block(0.2, 0.01, 3, 25) == 1)
        #expect(brn_add_another_block(0.005, 0.01, 3, 25) == 0)
        #expect(brn_add_another_block(0.2, 0.01, 25, 25) == 0)
        #expect(brn_add_another_block(.nan, 0.01, 3, 25) == 0)
        #expect(brn_add_another_block(-5, -.infinity, 24, 25) == 1) // the code's fixed depth
    }

    @Test func softmaxOverClassesAndOverTheBatch() {
        let logits: [Double] = [1, 2, 3,
                                1e4, 0, -1e4,
                                0, 0, 0,
                                5, 5, 5,
                                -2, 0, 2]
        var o = [Double](repeating: 0, count: 15)
        #expect(brn_softmax_classes(&o, logits, 5, 3) == BRN_OK)
        for i in 0..<5 { #expect(abs(Self.row(o, i, k: 3).reduce(0, +) - 1) < 1e-15) }
        #expect(o[3] == 1 && o[6...8].allSatisfy { abs($0 - 1.0 / 3) < 1e-15 })
        var p = [Double](repeating: 0, count: 15)
        #expect(brn_softmax_batch(&p, logits, 5, 3, 2) == BRN_OK)
        for start in [0, 2, 4] {
            for l in 0..<3 {
                let column = stride(from: start, to: min(start + 2, 5), by: 1).map { p[$0 * 3 + l] }
                #expect(column.allSatisfy { $0.isFinite } && abs(column.reduce(0, +) - 1) < 1e-15)
            }
        }
        var pred = [Int32](repeating: 0, count: 5)
        #expect(brn_predict(&pred, logits, 5, 3) == BRN_OK)
        #expect(pred == [2, 0, 0, 0, 2]) // first index on ties
    }
}
