/// A small, fast, seedable random stream (xoshiro256**, seeded through splitmix64), the same on
/// every machine, so one recipe seed gives the same initial weights everywhere.
public struct RandomStream: Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func next() -> UInt64 {
            x &+= 0x9e37_79b9_7f4a_7c15
            var z = x
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        s0 = next(); s1 = next(); s2 = next(); s3 = next()
    }

    public mutating func nextUInt64() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    public mutating func nextDouble() -> Double { Double(nextUInt64() >> 11) * 0x1.0p-53 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Float {
        Float(low + (high - low) * nextDouble())
    }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        var u1 = nextDouble()
        while u1 <= Double.leastNormalMagnitude { u1 = nextDouble() }
        let u2 = nextDouble()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// Uniform integer in [0, bound).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(nextUInt64() % UInt64(bound))
    }
}

#if canImport(Glibc)
import Glibc
#endif
