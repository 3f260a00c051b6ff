/// How long and how a model is trained; everything here is part of a run's identity, so a
/// resumed run must be given the same values (checked on `--resume`).
public struct TrainingOptions: Codable, Equatable, Sendable {
    /// Total number of optimizer steps of the run (not "more steps"); ``unlimitedSteps`` for a
    /// run that a ``TrainingBudget`` ends.
    public var steps: Int
    /// The step count of a run without a step limit (2³¹ − 1, more than any budget reaches).
    public static let unlimitedSteps = Int(Int32.max)
    public var batchSize: Int
    /// Adam's learning rate (Kingma & Ba's 1e-3 by default).
    public var learningRate: Float
    /// Seeds the weights, the data order and every noise draw.
    public var seed: UInt64
    /// Write a checkpoint every this many steps (and at the end); 0 writes only at the end.
    public var checkpointEvery: Int
    /// Record the running mean loss every this many steps.
    public var logEvery: Int
    /// Compute the test ELBO on a fixed subset every this many steps (and at the end); 0: only at the end.
    public var evaluateEvery: Int
    /// Size of that fixed subset (the first examples of the test split).
    public var evaluationExamples: Int
    /// Clip the global gradient norm to this value; `nil` for no clipping.
    public var maximumGradientNorm: Float?
    /// The shards M each batch is split into (`--shards`, docs/scaling.md). With 1, every draw of
    /// a step comes from the run's one generator, in order. With M > 1 (a power of two dividing the
    /// batch size), shard k of step s holds batch positions k·B/M ..< (k+1)·B/M, draws from its own
    /// stream (seed, s, k), and the shards' gradients are summed in ``GradientTree`` order: the same
    /// bits whether one process computes every shard or N processes (N a power of two, N ≤ M) share
    /// them.
    public var shardCount: Int

    public init(steps: Int = 5000, batchSize: Int = 256, learningRate: Float = 1e-3, seed: UInt64 = 0,
                checkpointEvery: Int = 1000, logEvery: Int = 50, evaluateEvery: Int = 1000,
                evaluationExamples: Int = 256, maximumGradientNorm: Float? = 10, shardCount: Int = 1) {
        self.shardCount = shardCount
        self.steps = steps
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
        self.checkpointEvery = checkpointEvery
        self.logEvery = logEvery
        self.evaluateEvery = evaluateEvery
        self.evaluationExamples = evaluationExamples
        self.maximumGradientNorm = maximumGradientNorm
    }

    /// One clear line for each impossible value.
    public func validate(trainingExamples: Int) throws {
        func fail(_ message: String) -> TrainingError { .invalidOption(message) }
        guard steps >= 1 else { throw fail("--steps must be at least 1, got \(steps)") }
        guard batchSize >= 1 else { throw fail("--batch-size must be at least 1, got \(batchSize)") }
        guard batchSize <= trainingExamples else {
            throw fail("--batch-size \(batchSize) is larger than the \(trainingExamples) training examples")
        }
        guard learningRate > 0, learningRate.isFinite else { throw fail("--lr must be a positive number, got \(learningRate)") }
        guard checkpointEvery >= 0 else { throw fail("--checkpoint-every must be 0 or more, got \(checkpointEvery)") }
        guard logEvery >= 1 else { throw fail("--log-every must be at least 1, got \(logEvery)") }
        guard evaluateEvery >= 0 else { throw fail("--evaluate-every must be 0 or more, got \(evaluateEvery)") }
        guard evaluationExamples >= 1 else { throw fail("--evaluation-examples must be at least 1, got \(evaluationExamples)") }
        if let norm = maximumGradientNorm, !(norm > 0) { throw fail("--clip must be positive, got \(norm)") }
        guard GradientTree.isPowerOfTwo(shardCount) else {
            throw fail("--shards must be a power of two (1, 2, 4, 8, …), got \(shardCount)")
        }
        guard batchSize % shardCount == 0 else {
            throw fail("--shards \(shardCount) does not divide --batch-size \(batchSize): every shard holds the same number of examples")
        }
    }

    private enum CodingKeys: String, CodingKey {
        case steps, batchSize, learningRate, seed, checkpointEvery, logEvery, evaluateEvery, evaluationExamples
        case maximumGradientNorm, shardCount
    }

    /// Decodes the options a checkpoint stores; those written before `shardCount` existed trained
    /// with one shard.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        steps = try container.decode(Int.self, forKey: .steps)
        batchSize = try container.decode(Int.self, forKey: .batchSize)
        learningRate = try container.decode(Float.self, forKey: .learningRate)
        seed = try container.decode(UInt64.self, forKey: .seed)
        checkpointEvery = try container.decode(Int.self, forKey: .checkpointEvery)
        logEvery = try container.decode(Int.self, forKey: .logEvery)
        evaluateEvery = try container.decode(Int.self, forKey: .evaluateEvery)
        evaluationExamples = try container.decode(Int.self, forKey: .evaluationExamples)
        maximumGradientNorm = try container.decodeIfPresent(Float.self, forKey: .maximumGradientNorm)
        shardCount = try container.decodeIfPresent(Int.self, forKey: .shardCount) ?? 1
    }
}

/// Why training could not start or had to stop.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidOption(String)
    /// The loss or the gradient became NaN or infinite at this step; nothing was written for it.
    case nonFinite(step: Int, what: String)
    case mismatch(String)

    public var description: String {
        switch self {
        case .invalidOption(let message), .mismatch(let message): return message
        case .nonFinite(let step, let what):
            return "training stopped at step \(step): the \(what) is not finite; the last checkpoint is left as it was (try a lower --lr or --clip)"
        }
    }
}
