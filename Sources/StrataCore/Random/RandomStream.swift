#if canImport(Glibc)
import Glibc
#endif

/// Strata's one random generator: xoshiro256** (Blackman and Vigna), seeded through splitmix64.
///
/// Its output is specified bit for bit, so a seed means the same sequence on every machine and
/// every Swift version (unlike `SystemRandomNumberGenerator`). There are two ways to seed it, and
/// both are kept as they are because the figures of shipped recipes depend on them:
/// - ``init(seed:)``: the state words are the first four splitmix64 outputs from `seed`. Weight
///   initialisation, dropout masks and tests use it.
/// - ``init(seed:stream:)``: splitmix64 starts from `seed ^ mix(stream + 0x6A09E667F3BCC909)`, one
///   independent stream per number. The batch loader draws each epoch's shuffle and augmentation
///   from stream `epoch`.
public struct RandomStream: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// The stream whose state is the first four splitmix64 outputs from `seed`.
    public init(seed: UInt64) {
        var splitMix = SplitMix64(state: seed)
        state = (splitMix.next(), splitMix.next(), splitMix.next(), splitMix.next())
    }

    /// Stream number `stream` of `seed` (the batch loader uses the epoch).
    public init(seed: UInt64, stream: UInt64) {
        var splitMix = SplitMix64(state: seed ^ SplitMix64.mix(stream &+ 0x6A09_E667_F3BC_C909))
        state = (splitMix.next(), splitMix.next(), splitMix.next(), splitMix.next())
    }

    /// A generator started from raw state words (not all zero), as in the reference code.
    init(state: (UInt64, UInt64, UInt64, UInt64)) {
        self.state = state
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = Self.rotateLeft(state.1 &* 5, by: 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = Self.rotateLeft(state.3, by: 45)
        return result
    }

    /// The next 64 random bits (the same as ``next()``).
    public mutating func nextUInt64() -> UInt64 { next() }

    private static func rotateLeft(_ value: UInt64, by amount: UInt64) -> UInt64 {
        (value << amount) | (value >> (64 - amount))
    }

    /// A uniform integer in `0..<bound` (`bound > 0`), unbiased (Lemire's method with rejection).
    /// The batch loader's shuffles and crops use it.
    public mutating func next(below bound: UInt64) -> UInt64 {
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }

    /// Uniform in [0, 1): the top 53 bits.
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

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

    /// An integer in [0, bound) by a plain modulo (slightly biased; tests draw with it). `bound`
    /// must be positive.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next() % UInt64(bound))
    }
}

/// Vigna's splitmix64: seeds ``RandomStream`` from one 64-bit value.
struct SplitMix64 {
    var state: UInt64

    /// The next output: advance by the golden-ratio increment, then ``mix(_:)``.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// splitmix64's output function, a bijective 64-bit mixer.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
