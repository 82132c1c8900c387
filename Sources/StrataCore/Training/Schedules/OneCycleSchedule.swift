import Foundation

/// `one_cycle`: fast.ai's `fit_one_cycle` (Smith's 1cycle policy) with the base rate as `lr_max`.
/// Over the first `pct_start` of training the rate rises by cosine from `lr_max/div` to `lr_max`
/// while the momentum falls from `moms[0]` to `moms[1]`; over the rest the rate falls to
/// `lr_max/div_final` and the momentum rises to `moms[2]` (fast.ai's `combined_cos`; defaults
/// pct_start 0.25, div 25, div_final 1e5, moms 0.95, 0.85, 0.95). The momentum is SGD's
/// momentum or Adam's β₁.
public struct OneCycleSchedule: LearningRateSchedule {
    public let kind = "one_cycle"
    public let pctStart: Double
    public let div: Double
    public let divFinal: Double
    public let moms: (Double, Double, Double)?

    public init(pctStart: Double = 0.25, div: Double = 25, divFinal: Double = 1e5,
                moms: (Double, Double, Double)? = (0.95, 0.85, 0.95)) {
        self.pctStart = pctStart
        self.div = div
        self.divFinal = divFinal
        self.moms = moms
    }

    public func rate(at p: TrainingPosition, base: Double) -> Double {
        let f = p.fraction
        if f < pctStart { return cosineInterpolation(from: base / div, to: base, f / pctStart) }
        return cosineInterpolation(from: base, to: base / divFinal, (f - pctStart) / (1 - pctStart))
    }

    public func momentum(at p: TrainingPosition) -> Double? {
        guard let (m0, m1, m2) = moms else { return nil }
        let f = p.fraction
        if f < pctStart { return cosineInterpolation(from: m0, to: m1, f / pctStart) }
        return cosineInterpolation(from: m1, to: m2, (f - pctStart) / (1 - pctStart))
    }
}
