/// A seeded, platform-independent random number generator: xoshiro256** seeded by SplitMix64.
///
/// Every random draw in `compare` goes through a generator passed explicitly as
/// `using: &generator`; there is no global random state. The same seed gives the same
/// stream on every machine, and ``state`` can be saved into a checkpoint and restored
/// so that a resumed run continues the exact same stream.
///
/// Normal deviates use the Box–Muller transform on pairs of uniforms; a single
/// ``nextNormal()`` draws a fresh pair and keeps no cached half, so the whole stream is
/// determined by the four state words. The transform's logarithm, sine and cosine are the
/// engine's own (``BoxMuller``: fdlibm's kernels, branch-free), so a seed gives the same bits
/// on every IEEE-754 machine whatever its libm, and ``fillNormal(_:)`` transforms whole
/// batches of uniforms in loops the compiler vectorizes and that run on several threads (Tensor
/// adds it: the AVX2 kernel and the thread pool live there).
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The four words of xoshiro256** state. Never all zero.
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// Seeds the four state words from SplitMix64, as the xoshiro authors recommend.
    public init(seed: UInt64) {
        var splitMix = seed
        func nextSplitMix() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (nextSplitMix(), nextSplitMix(), nextSplitMix(), nextSplitMix())
    }

    /// Restores a generator from words saved with ``stateWords``.
    /// - Precondition: four words, not all zero.
    public init?(stateWords words: [UInt64]) {
        guard words.count == 4, words.contains(where: { $0 != 0 }) else { return nil }
        state = (words[0], words[1], words[2], words[3])
    }

    /// The state as four words, for checkpoints.
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (lhs: RandomGenerator, rhs: RandomGenerator) -> Bool {
        lhs.stateWords == rhs.stateWords
    }

    @inline(__always)
    private static func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 &- k)) }

    /// The next 64 random bits (xoshiro256**).
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Self.rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = Self.rotateLeft(state.3, 45)
        return result
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform Double in (0, 1]: safe to take the logarithm of.
    @inline(__always)
    public mutating func nextOpenUniform() -> Double {
        Double((next() >> 11) + 1) * 0x1.0p-53
    }

    /// A uniform integer in `0..<bound` without modulo bias (Lemire's method).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        return Int(truncatingIfNeeded: next(upperBound: UInt64(bound)))
    }

    /// A pair of independent standard normal deviates (Box–Muller): with u₁ ∈ (0, 1] drawn
    /// first and u₂ ∈ [0, 1), (√(−2 log u₁) cos 2πu₂, √(−2 log u₁) sin 2πu₂).
    @inline(__always)
    public mutating func nextNormalPair() -> (Double, Double) {
        let u1 = nextOpenUniform()
        let u2 = nextUniform()
        return BoxMuller.transform(u1, u2)
    }

    /// One standard normal deviate. Draws a fresh pair and uses its first half.
    public mutating func nextNormal() -> Double { nextNormalPair().0 }

    /// Writes `count` pairs (u₁ ∈ (0, 1], u₂ ∈ [0, 1)) to `u`, drawn as ``nextNormalPair()``
    /// draws them. The state is copied into a local: through `self` the compiler must assume
    /// every store to `u` may change it and reloads it for each draw (about 3 × slower in a
    /// ddpm784 profile).
    package mutating func drawUniformPairs(into u: UnsafeMutablePointer<Double>, count: Int) {
        var generator = self
        for i in 0..<count {
            u[2 * i] = generator.nextOpenUniform()
            u[2 * i + 1] = generator.nextUniform()
        }
        self = generator
    }

    /// A permutation of `0..<count` (Fisher–Yates), for shuffling data order.
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                order.swapAt(i, nextInt(below: i + 1))
            }
        }
        return order
    }
}

