import Foundation
import Testing
@testable import StrataCore

@Suite("Learning-rate schedules")
struct LRScheduleTests {
    /// The rate (and momentum) the callback sets at every (epoch, batch) of a run, base rate 0.1.
    func rates(_ schedule: any LearningRateSchedule, epochs: Int, batches: Int, base: Double = 0.1) throws -> [[(lr: Double, momentum: Double?)]] {
        let callback = LRScheduleCallback(schedule)
        var c = CallbackContext()
        c.learningRate = base
        c.epochs = epochs
        c.batchesPerEpoch = batches
        try callback.onEvent(.trainBegin, context: &c)
        return try (1...epochs).map { epoch in
            try (0..<batches).map { batch in
                c.epoch = epoch
                c.batch = batch
                c.momentum = nil
                try callback.onEvent(.batchBegin, context: &c)
                return (c.learningRate, c.momentum)
            }
        }
    }

    /// Every step's rate against `closedForm(t)`, `t` the global step from 0, `T` the total.
    func expectEveryStep(_ schedule: any LearningRateSchedule, epochs: Int, batches: Int,
                         _ closedForm: (_ epoch: Int, _ batch: Int, _ t: Double, _ T: Double) -> Double,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try rates(schedule, epochs: epochs, batches: batches)
        for e in 1...epochs {
            for b in 0..<batches {
                let t = Double((e - 1) * batches + b), T = Double(epochs * batches)
                let expected = closedForm(e, b, t, T)
                #expect(abs(r[e - 1][b].lr - expected) <= 1e-12 * max(1, abs(expected)),
                        "\(schedule.kind) epoch \(e) batch \(b): \(r[e - 1][b].lr) vs \(expected)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func stepDecaysEveryStepSizeEpochs() throws {
        try expectEveryStep(StepSchedule(stepSize: 2, gamma: 0.5), epochs: 5, batches: 3) { e, _, _, _ in 0.1 * pow(0.5, Double((e - 1) / 2)) }
        #expect(try rates(StepSchedule(stepSize: 2, gamma: 0.5), epochs: 5, batches: 2).map { $0[0].lr } == [0.1, 0.1, 0.05, 0.05, 0.025])
    }

    @Test func exponentialDecaysByGammaPerEpochBatchByBatch() throws {
        try expectEveryStep(ExponentialSchedule(gamma: 0.8), epochs: 3, batches: 4) { _, _, t, _ in 0.1 * pow(0.8, t / 4) }
    }

    @Test func cosineAnnealsFromTheBaseRateOverTheRun() throws {
        try expectEveryStep(CosineSchedule(etaMin: 0.001), epochs: 2, batches: 4) { _, _, t, T in 0.001 + 0.099 * (1 + cos(Double.pi * t / T)) / 2 }
        let r = try rates(CosineSchedule(etaMin: 0.001), epochs: 2, batches: 4).flatMap { $0 }
        #expect(r[0].lr == 0.1 && abs(r[4].lr - 0.0505) < 1e-12)
    }

    @Test func warmupRisesLinearlyThenHolds() throws {
        // Over 1.5 epochs of 4 batches (6 steps) from 0.25·lr₀ to lr₀.
        try expectEveryStep(WarmupSchedule(warmupEpochs: 1.5, startFactor: 0.25), epochs: 3, batches: 4) { _, _, t, _ in
            0.1 * (0.25 + 0.75 * min(1, t / 6))
        }
    }

    @Test func oneCycleFollowsFastAIsCombinedCosineForRateAndMomentum() throws {
        // fast.ai: lr from lr_max/25 up to lr_max over the first 25 % of steps, then down to lr_max/1e5;
        // momentum from 0.95 down to 0.85 and back.
        let schedule = OneCycleSchedule()
        func cosineTo(_ a: Double, _ b: Double, _ p: Double) -> Double { a + (1 + cos(Double.pi * (1 - p))) * (b - a) / 2 }
        try expectEveryStep(schedule, epochs: 4, batches: 5) { _, _, t, T in
            let p = t / T
            return p < 0.25 ? cosineTo(0.1 / 25, 0.1, p / 0.25) : cosineTo(0.1, 0.1 / 1e5, (p - 0.25) / 0.75)
        }
        let r = try rates(schedule, epochs: 4, batches: 5).flatMap { $0 }
        #expect(abs(r[0].lr - 0.004) < 1e-15 && abs(r[5].lr - 0.1) < 1e-15)   // step 5 of 20 is the peak
        #expect(r[0].momentum == 0.95 && abs(r[5].momentum! - 0.85) < 1e-15)
        for (t, step) in r.enumerated() {
            let p = Double(t) / 20
            let m = p < 0.25 ? cosineTo(0.95, 0.85, p / 0.25) : cosineTo(0.85, 0.95, (p - 0.25) / 0.75)
            #expect(abs(step.momentum! - m) < 1e-15, "momentum at step \(t)")
        }
        // moms null leaves the momentum alone.
        #expect(try rates(OneCycleSchedule(moms: nil), epochs: 1, batches: 2).flatMap { $0 }.allSatisfy { $0.momentum == nil })
    }

    @Test func sgdrRestartsWithCyclesGrowingByCycleMult() throws {
        // fast.ai's fit(lr, 3, cycle_len=1, cycle_mult=2): cycles of 1, 2 and 4 epochs start at epochs 1, 2 and 4.
        let schedule = SGDRSchedule(cycleLength: 1, cycleMultiplier: 2, etaMin: 0.001)
        try expectEveryStep(schedule, epochs: 7, batches: 3) { e, b, _, _ in
            let (start, length) = e == 1 ? (0, 1) : e <= 3 ? (1, 2) : (3, 4)
            let t = (Double(e - 1 - start) + Double(b) / 3) / Double(length)
            return 0.001 + 0.099 * (1 + cos(Double.pi * t)) / 2
        }
        let r = try rates(schedule, epochs: 7, batches: 2)
        #expect(r.enumerated().filter { $0.element[0].lr == 0.1 }.map { $0.offset + 1 } == [1, 2, 4])
        #expect(schedule.cycleEnds(epochs: 7) == [1, 3, 7])
        #expect(schedule.cycleEnds(epochs: 5) == [1, 3])
        #expect(SGDRSchedule(cycleLength: 2, cycleMultiplier: 1, etaMin: 0).cycleEnds(epochs: 6) == [2, 4, 6])
    }

    @Test func steppingPastTheEndHoldsTheLastRate() throws {
        let schedules: [any LearningRateSchedule] = [
            StepSchedule(stepSize: 1, gamma: 0.5), ExponentialSchedule(gamma: 0.5), CosineSchedule(etaMin: 0),
            WarmupSchedule(warmupEpochs: 1, startFactor: 0.1), OneCycleSchedule(),
            SGDRSchedule(cycleLength: 1, cycleMultiplier: 2, etaMin: 0),
        ]
        for s in schedules {
            let last = s.rate(at: TrainingPosition(epoch: 3, batch: 3, batchesPerEpoch: 4, epochs: 3), base: 0.1)
            for (epoch, batch) in [(3, 4), (3, 100), (4, 0), (50, 2), (Int.max, Int.max)] {
                let rate = s.rate(at: TrainingPosition(epoch: epoch, batch: batch, batchesPerEpoch: 4, epochs: 3), base: 0.1)
                #expect(rate == last, "\(s.kind) at epoch \(epoch) batch \(batch): \(rate) vs the last \(last)")
            }
        }
    }

    @Test func aChangedDataSetSizeKeepsTheCurveAsAFractionOfTraining() throws {
        // The same fraction of training gives the same rate with 4 or 10 batches per epoch.
        for s in [CosineSchedule(etaMin: 0) as any LearningRateSchedule, OneCycleSchedule(), ExponentialSchedule(gamma: 0.7),
                  SGDRSchedule(cycleLength: 1, cycleMultiplier: 2, etaMin: 0)] {
            for epoch in 1...3 {
                for (b4, b10) in [(0, 0), (2, 5)] {
                    let a = s.rate(at: TrainingPosition(epoch: epoch, batch: b4, batchesPerEpoch: 4, epochs: 3), base: 0.1)
                    let b = s.rate(at: TrainingPosition(epoch: epoch, batch: b10, batchesPerEpoch: 10, epochs: 3), base: 0.1)
                    #expect(abs(a - b) < 1e-15, "\(s.kind) epoch \(epoch)")
                }
            }
        }
    }
}
