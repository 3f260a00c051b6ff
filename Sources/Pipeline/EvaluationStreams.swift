/// How an evaluation lays out its random draws (`compare eval --streams`; docs/scaling.md#sharded-evaluation).
public enum EvaluationStreams: String, CaseIterable, Codable, Sendable {
    /// One generator, seeded by `--seed`, runs through the batches in order; the sandwich bounds
    /// continue it. Every evaluation made before `--streams` existed used this layout, and it stays
    /// the default so that their commands reproduce their numbers.
    case sequential
    /// Batch b draws from its own stream, `RandomGenerator(seed:stream:)` with the path (b), and
    /// the sandwich bounds from the stream (B), B the number of batches: batches can be computed by
    /// any process in any order, so `mpirun -np N compare eval` writes the `/evaluation` of one
    /// process. The numbers differ from `sequential`'s (other draws), not their distribution.
    case perBatch = "per-batch"
}
