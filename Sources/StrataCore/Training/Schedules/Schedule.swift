import Foundation

/// Where training is, as a schedule reads it: the (1-based) epoch, the (0-based) batch within it,
/// and the run's length. Schedules are functions of the *fraction of training done*, not of a
/// step count, so a curve keeps its shape when the data set (and so the number of batches per
/// epoch) changes between runs or at a resume.
///
/// A position past the end is clamped to the last batch of the last epoch: stepping past the
/// end holds the last rate.
public struct TrainingPosition: Equatable, Sendable {
    public let epoch: Int
    public let batch: Int
    public let batchesPerEpoch: Int
    public let epochs: Int

    public init(epoch: Int, batch: Int, batchesPerEpoch: Int, epochs: Int) {
        let epochs = max(epochs, 1), batches = max(batchesPerEpoch, 1)
        var (e, b) = (min(max(epoch, 1), epochs), min(max(batch, 0), batches - 1))
        if epoch > epochs { (e, b) = (epochs, batches - 1) }
        (self.epoch, self.batch, self.batchesPerEpoch, self.epochs) = (e, b, batches, epochs)
    }

    /// Epochs done before this batch, fractional: `(epoch − 1) + batch / batchesPerEpoch`.
    public var epochsDone: Double { Double(epoch - 1) + Double(batch) / Double(batchesPerEpoch) }

    /// Fraction of training done before this batch, in [0, 1): `epochsDone / epochs`.
    public var fraction: Double { epochsDone / Double(epochs) }
}

/// A learning-rate schedule: the rate (and, for one-cycle, the momentum) at each position, from
/// the optimizer's base rate `lr₀`. One schedule per file in this folder.
public protocol LearningRateSchedule: Sendable {
    /// The recipe's `schedule` name.
    var kind: String { get }
    /// The rate for the batch at `position`.
    func rate(at position: TrainingPosition, base: Double) -> Double
    /// The momentum (SGD's momentum, Adam's β₁) for the batch at `position`; nil leaves it alone.
    func momentum(at position: TrainingPosition) -> Double?
    /// Epochs (1-based) at whose end a cycle ends, for snapshots; empty for a schedule without cycles.
    func cycleEnds(epochs: Int) -> [Int]
}

extension LearningRateSchedule {
    public func momentum(at position: TrainingPosition) -> Double? { nil }
    public func cycleEnds(epochs: Int) -> [Int] { [] }
}

/// Cosine interpolation from `start` (at `t` = 0) to `end` (at `t` = 1), fast.ai's `SchedCos`:
/// `start + (1 + cos(π·(1 − t)))·(end − start)/2`.
func cosineInterpolation(from start: Double, to end: Double, _ t: Double) -> Double {
    start + (1 + cos(Double.pi * (1 - t))) * (end - start) / 2
}
