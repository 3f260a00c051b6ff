/// What training and evaluating one run cost, for the report's "Training budget" section: the
/// numbers that say whether two rows had the same chance.
///
/// The steps and the wall-clock training time are the run's own (``RunSummary/trainingSteps``,
/// ``RunSummary/trainingSeconds``). Every field is optional: checkpoints written before the
/// toolkit recorded it leave it `nil`, and the report prints "n/a".
public struct TrainingCost: Sendable, Equatable {
    /// Examples per step.
    public var batchSize: Int?
    /// CPU seconds of the process during those steps, all threads together.
    public var cpuSeconds: Double?
    /// Multiply–adds of the steps' matrix products, counted by the engine.
    public var multiplyAdds: Double?
    /// The engine's thread count during training.
    public var threads: Int?
    /// The `--time-budget` that ended the run, in seconds, and its clock (`wall` or `cpu`).
    public var budgetSeconds: Double?
    public var budgetClock: String?
    /// Wall-clock seconds of `compare eval` and its thread count.
    public var evaluationSeconds: Double?
    public var evaluationThreads: Int?
    /// Network outputs the log-scale guards moved into their bounds during training and during
    /// `compare eval` (docs/math.md#log-scale-guards); 0 when the numbers are the unguarded model's.
    public var guardedTrainingOutputs: Double?
    public var guardedEvaluationOutputs: Int?
    /// Training steps skipped because their loss or gradient was not finite.
    public var skippedSteps: Int?

    public init(batchSize: Int? = nil, cpuSeconds: Double? = nil,
                multiplyAdds: Double? = nil, threads: Int? = nil, budgetSeconds: Double? = nil, budgetClock: String? = nil,
                evaluationSeconds: Double? = nil, evaluationThreads: Int? = nil,
                guardedTrainingOutputs: Double? = nil, guardedEvaluationOutputs: Int? = nil, skippedSteps: Int? = nil) {
        self.batchSize = batchSize
        self.cpuSeconds = cpuSeconds
        self.multiplyAdds = multiplyAdds
        self.threads = threads
        self.budgetSeconds = budgetSeconds
        self.budgetClock = budgetClock
        self.evaluationSeconds = evaluationSeconds
        self.evaluationThreads = evaluationThreads
        self.guardedTrainingOutputs = guardedTrainingOutputs
        self.guardedEvaluationOutputs = guardedEvaluationOutputs
        self.skippedSteps = skippedSteps
    }

    /// Training examples seen in `steps` steps: steps × batch size (an example seen in two
    /// epochs counts twice).
    public func examplesSeen(steps: Int) -> Int? { batchSize.map { $0 * steps } }

    /// Training FLOPs of the products: 2 per multiply–add.
    public var flops: Double? { multiplyAdds.map { 2 * $0 } }

    /// The seconds of the budget's clock the run spent: CPU seconds ÷ threads on the cpu clock,
    /// the wall-clock training seconds on the wall clock; nil without a budget or the figures.
    public func budgetSpentSeconds(trainingSeconds: Double) -> Double? {
        switch budgetClock {
        case "cpu": return cpuSeconds.flatMap { cpu in threads.map { cpu / Double(Swift.max($0, 1)) } }
        case "wall": return trainingSeconds
        default: return nil
        }
    }

    /// The budget in words: "20 min of the cpu clock", or nil without one.
    public var budgetDescription: String? {
        guard let budgetSeconds, let budgetClock else { return nil }
        return "\(formatDuration(budgetSeconds)) on the \(budgetClock) clock"
    }
}
