extension RandomGenerator {
    /// An independent stream named by a seed and a path of indices — e.g. (seed, step, shard) for
    /// the draws of one shard of one training step (docs/scaling.md#random-streams).
    ///
    /// The stream depends on the indices alone, never on which process or thread asks for it, so
    /// that work split over any number of processes draws the same numbers. Each index is folded in
    /// with one SplitMix64 finalizer round after a distinct odd multiplier per position, so that
    /// (1, 2) and (2, 1) name different streams, and the result seeds the generator as
    /// ``init(seed:)`` does.
    public init(seed: UInt64, stream indices: [UInt64]) {
        var key = Self.finalize(seed ^ 0x243F_6A88_85A3_08D3)
        for (position, index) in indices.enumerated() {
            key = Self.finalize(key &+ index &* (0x9E37_79B9_7F4A_7C15 &+ 2 &* UInt64(position)))
        }
        self.init(seed: key)
    }

    /// SplitMix64's output function: a bijection of 64-bit words that mixes every input bit
    /// into every output bit.
    private static func finalize(_ word: UInt64) -> UInt64 {
        var z = word
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
