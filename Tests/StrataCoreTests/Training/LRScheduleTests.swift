import Foundation
import Testing
@testable import StrataCore

@Suite("Learning-rate schedules")
struct LRScheduleTests {
    /// The rate the schedule sets for (epoch, batch), with base rate 0.1.
    func rates(_ schedule: LRScheduleCallback.Schedule, epochs: Int, batches: Int) throws -> [[Double]] {
        let callback = LRScheduleCallback(schedule)
        var c = CallbackContext()
        c.learningRate = 0.1
        c.epochs = epochs
        c.batchesPerEpoch = batches
        try callback.onEvent(.trainBegin, context: &c)
        return try (1...epochs).map { epoch in
            try (0..<batches).map { batch in
                c.epoch = epoch
                c.batch = batch
                try callback.onEvent(.batchBegin, context: &c)
                return c.learningRate
            }
        }
    }

    @Test func cosineAnnealsFromTheBaseRateOverTheRun() throws {
        let r = try rates(.cosine(etaMin: 0.001), epochs: 2, batches: 4)
        #expect(r[0][0] == 0.1)
        // halfway (epoch 2, batch 0): the midpoint of 0.1 and 0.001
        #expect(abs(r[1][0] - 0.0505) < 1e-12)
        let flat = r.flatMap { $0 }
        #expect(zip(flat, flat.dropFirst()).allSatisfy { $0 > $1 })
        #expect(abs(flat.last! - (0.001 + 0.099 * (1 + cos(Double.pi * 7 / 8)) / 2)) < 1e-12)
    }

    @Test func stepDecaysEveryStepSizeEpochs() throws {
        let r = try rates(.step(stepSize: 2, gamma: 0.5), epochs: 5, batches: 2)
        #expect(r.map { $0[0] } == [0.1, 0.1, 0.05, 0.05, 0.025])
    }

    @Test func sgdrRestartsWithCyclesGrowingByCycleMult() throws {
        // fast.ai's cycle_len 1, cycle_mult 2: cycles of 1, 2 and 4 epochs start at epochs 1, 2 and 4.
        let r = try rates(.sgdr(cycleLength: 1, cycleMultiplier: 2, etaMin: 0), epochs: 7, batches: 2)
        let starts = r.enumerated().filter { $0.element[0] == 0.1 }.map { $0.offset + 1 }
        #expect(starts == [1, 2, 4])
        // within the 2-epoch cycle: epoch 2 batch 1 is a quarter of the way through
        #expect(abs(r[1][1] - 0.1 * (1 + cos(Double.pi * 1 / 4)) / 2) < 1e-12)
        // the 4-epoch cycle is at its midpoint at epoch 6, batch 0
        #expect(abs(r[5][0] - 0.05) < 1e-12)
    }
}
