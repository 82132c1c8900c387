import Testing
@testable import StrataCore

@Suite("Early stopping")
struct EarlyStopTests {
    /// Feeds per-epoch test accuracies; returns the epoch at which the callback asked to stop.
    func stopEpoch(_ accuracies: [Double], patience: Int, minDelta: Double = 0) throws -> Int? {
        let callback = EarlyStopCallback(monitor: "test_acc", patience: patience, minDelta: minDelta)
        var c = CallbackContext()
        for (i, a) in accuracies.enumerated() {
            c.epoch = i + 1
            c.testAccuracy = a
            try callback.onEvent(.epochEnd, context: &c)
            if c.stop { return i + 1 }
        }
        return nil
    }

    @Test func stopsAfterPatienceEpochsWithoutImprovement() throws {
        #expect(try stopEpoch([0.5, 0.6, 0.59, 0.6, 0.58], patience: 3) == 5)
        #expect(try stopEpoch([0.5, 0.6, 0.59, 0.61, 0.58], patience: 3) == nil)
        // an improvement smaller than min_delta does not count
        #expect(try stopEpoch([0.5, 0.505, 0.508], patience: 2, minDelta: 0.01) == 3)
    }
}
