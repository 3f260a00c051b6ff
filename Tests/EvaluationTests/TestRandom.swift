#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A seeded SplitMix64 stream with Box–Muller normals. EvaluationTests links only Evaluation, so it
/// carries its own generator; the tests need reproducible draws, not the engine's exact stream.
struct TestRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func nextUInt64() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform on (0, 1): 53 random bits, never 0 (the logarithm below needs it).
    mutating func nextOpenUniform() -> Double { (Double(nextUInt64() >> 11) + 0.5) / 9_007_199_254_740_992 }

    mutating func nextNormal() -> Double {
        let u = nextOpenUniform(), v = nextOpenUniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    /// `rows` × `columns` standard normals.
    mutating func normals(_ rows: Int, _ columns: Int) -> [[Double]] {
        (0..<rows).map { _ in (0..<columns).map { _ in nextNormal() } }
    }
}
