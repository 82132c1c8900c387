import Foundation

/// The range and labelled ticks of one chart axis.
///
/// A linear axis steps by 1, 2 or 5 times a power of ten, chosen so that about `target` ticks
/// cover the data, and its ends are widened to the ticks just outside the data, so the first and
/// last gridlines are the plot's edges. A log axis (for rates, which span decades) ticks every
/// decade, with 2 and 5 in between when the data spans at most two decades; its values must be
/// positive (others are not drawn).
public struct AxisTicks: Equatable {
    /// The axis ends, in data units.
    public let low: Double
    public let high: Double
    /// Tick positions from low to high, in data units.
    public let values: [Double]
    /// One label per tick.
    public let labels: [String]
    public let log: Bool

    /// Ticks for data in `[minimum, maximum]` (finite). With `integers`, a linear step is at
    /// least 1 (epochs, rounds).
    public init(minimum: Double, maximum: Double, log: Bool = false, target: Int = 5, integers: Bool = false) {
        self.log = log
        if log {
            let lo = minimum > 0 && minimum.isFinite ? minimum : 1
            let hi = maximum.isFinite && maximum >= lo ? maximum : lo
            var e0 = Foundation.floor(Foundation.log10(lo) + 1e-9)
            var e1 = Foundation.ceil(Foundation.log10(hi) - 1e-9)
            if e1 <= e0 { e0 = Foundation.floor(Foundation.log10(lo) + 1e-9); e1 = e0 + 1 }
            let decades = Int(e1 - e0)
            let every = max(1, (decades + 7) / 8)  // at most about 8 labelled decades
            var values: [Double] = []
            for e in stride(from: Int(e0), through: Int(e1), by: 1) where (e - Int(e0)) % every == 0 {
                let p = Foundation.pow(10.0, Double(e))
                values.append(p)
                if decades <= 2, e < Int(e1) { values += [2 * p, 5 * p] }
            }
            low = Foundation.pow(10.0, e0)
            high = Foundation.pow(10.0, e1)
            self.values = values
            labels = values.map(AxisTicks.logLabel)
            return
        }
        var lo = minimum.isFinite ? minimum : 0
        var hi = maximum.isFinite ? maximum : 1
        if hi < lo { swap(&lo, &hi) }
        if hi - lo <= Swift.max(abs(hi), abs(lo)) * 1e-9 || hi - lo < 1e-300 {
            // One value: a band around it.
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
        }
        var step = AxisTicks.niceStep((hi - lo) / Double(Swift.max(target, 1)))
        if integers { step = Swift.max(step, 1) }
        let first = Foundation.floor(lo / step + 1e-9)
        let last = Foundation.ceil(hi / step - 1e-9)
        low = first * step
        high = last * step
        let count = Int(last - first)
        values = (0...Swift.max(count, 0)).map { i in
            let v = (first + Double(i)) * step
            return abs(v) < step * 1e-9 ? 0 : v  // no "-0"
        }
        let decimals = Swift.max(0, -Int(Foundation.floor(Foundation.log10(step) + 1e-9)))
        let large = Swift.max(abs(low), abs(high))
        labels = values.map { v in
            if large >= 1e6 || (decimals > 5) { return AxisTicks.compact(v) }
            return String(format: "%.\(decimals)f", v)
        }
    }

    /// The smallest of 1, 2 or 5 times a power of ten that is at least `raw`.
    public static func niceStep(_ raw: Double) -> Double {
        guard raw.isFinite, raw > 0 else { return 1 }
        let p = Foundation.pow(10.0, Foundation.floor(Foundation.log10(raw)))
        for m in [1.0, 2.0, 5.0, 10.0] where m * p >= raw * (1 - 1e-9) { return m * p }
        return 10 * p
    }

    /// Where `v` falls between the ends, from 0 (low) to 1 (high); nil when a log axis cannot
    /// show it (not positive) or it is not finite.
    public func fraction(_ v: Double) -> Double? {
        guard v.isFinite else { return nil }
        if log {
            guard v > 0 else { return nil }
            return (Foundation.log10(v) - Foundation.log10(low)) / (Foundation.log10(high) - Foundation.log10(low))
        }
        return (v - low) / (high - low)
    }

    /// `0.001`, `0.01`, … `1000` as decimals, other powers and multiples as `1e-05`, `2e+04`.
    static func logLabel(_ v: Double) -> String {
        if v >= 1e-3 && v < 1e4 { return String(format: "%g", v) }
        return compact(v)
    }

    /// A short label: `%g` with no more than 4 significant digits.
    static func compact(_ v: Double) -> String { String(format: "%.4g", v) }
}
