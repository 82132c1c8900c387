import Foundation

/// `sgdr`: cosine annealing with warm restarts (Loshchilov & Hutter; fast.ai's
/// `fit(lr, n, cycle_len, cycle_mult)`). Cycle `i` (from 0) lasts `cycle_len·cycle_mult^i` epochs;
/// within it the rate anneals from `lr₀` to `η_min` over the fraction of the cycle done,
/// `η = η_min + (lr₀ − η_min)·(1 + cos(π·t))/2`, then restarts at `lr₀`. Three cycles of
/// `cycle_len` 1 and `cycle_mult` 2 take 7 epochs (1 + 2 + 4).
public struct SGDRSchedule: LearningRateSchedule {
    public let kind = "sgdr"
    public let cycleLength: Int
    public let cycleMultiplier: Int
    public let etaMin: Double

    public init(cycleLength: Int, cycleMultiplier: Int, etaMin: Double) {
        self.cycleLength = max(cycleLength, 1)
        self.cycleMultiplier = max(cycleMultiplier, 1)
        self.etaMin = etaMin
    }

    /// The cycle holding `epoch` (1-based): its first epoch (0-based) and its length in epochs.
    func cycle(of epoch: Int) -> (start: Int, length: Int) {
        var start = 0, length = cycleLength
        while epoch - 1 >= start + length {
            start += length
            // Cycles longer than any run stop growing (no overflow for any recipe's epochs).
            length = length > 1_000_000 ? length : length * cycleMultiplier
        }
        return (start, length)
    }

    public func rate(at p: TrainingPosition, base: Double) -> Double {
        let (start, length) = cycle(of: p.epoch)
        let t = (p.epochsDone - Double(start)) / Double(length)
        return etaMin + (base - etaMin) * (1 + cos(Double.pi * t)) / 2
    }

    public func cycleEnds(epochs: Int) -> [Int] {
        var ends: [Int] = [], epoch = 1
        while epoch <= epochs {
            let (start, length) = cycle(of: epoch)
            ends.append(start + length)
            epoch = start + length + 1
        }
        return ends.filter { $0 <= epochs }
    }
}
