import Core
import DDPMModel
import Distributed
import Evaluation
import Foundation
import NN
import Store
import Tensor

/// One training run of one model on one dataset: the model, Adam, the random stream, the step
/// counter and the log — everything a checkpoint holds, so that a run resumed from a
/// checkpoint continues bit-identically (same seed, same thread count).
///
/// The data order is a function of the seed and the step alone: epoch e visits the training
/// examples in the order of a permutation drawn from a generator seeded by (seed, e), in
/// ⌊N/B⌋ batches of B (the remainder is skipped that epoch).
///
/// With ``TrainingOptions/shardCount`` M > 1 a step is computed shard by shard (each with its own
/// random stream) and the shards' gradients are added in ``GradientTree`` order; the
/// ``communicator``'s processes then share the shards, and every process takes the same Adam
/// update from the same summed gradient (docs/scaling.md).
public final class TrainingRun {
    public let configuration: ModelConfiguration
    public private(set) var options: TrainingOptions
    public let model: any LatentVariableModel
    public let optimizer: Adam
    /// The stream of training noise (timesteps, ε, reparameterization draws).
    public private(set) var generator: RandomGenerator
    /// Steps taken so far.
    public private(set) var step: Int = 0
    public let datasetPath: String
    public let datasetHash: String
    /// The processes that share each step's shards (one process unless started by `mpirun`).
    public let communicator: any Communicator
    /// Wall-clock seconds of the optimizer steps, over all sessions of the run (not part of the
    /// history, which must be identical across resumes). The test-ELBO evaluations are in
    /// ``monitoringSeconds``; writing checkpoints is in neither.
    public private(set) var trainingSeconds: Double = 0
    /// CPU seconds of the process (all threads) during the optimizer steps, over all sessions.
    public private(set) var trainingCPUSeconds: Double = 0
    /// Wall-clock seconds of the test-ELBO evaluations (`--evaluate-every`), over all sessions.
    public private(set) var monitoringSeconds: Double = 0
    /// Multiply–adds of the matrix products of the optimizer steps (forward and backward), over
    /// all sessions, counted by the engine (``MultiplyAddCounter``): training FLOPs ≈ 2 × this.
    public private(set) var trainingMultiplyAdds: Double = 0
    /// Network outputs the log-scale guards moved into their bounds during the optimizer steps,
    /// over all sessions (``GuardCounter``; docs/math.md#log-scale-guards): 0 when the run
    /// trained the unguarded model bit for bit.
    public private(set) var guardedOutputs: Double = 0
    /// Wall-clock seconds this process spent in the communicator's collectives during this
    /// session's optimizer steps, after the other processes were ready; 0 on one process. Not
    /// stored: a measure of the job, not of the run (docs/scaling.md#measured).
    public private(set) var communicationSeconds: Double = 0
    /// Wall-clock seconds this process waited at the barrier before each step's tree sum, for
    /// the other processes to finish their shards, this session; 0 on one process.
    public private(set) var waitingSeconds: Double = 0
    /// Bytes this process sent and received in those collectives this session, as payload
    /// (what the transport adds is not counted).
    public private(set) var communicatedBytes: Double = 0
    /// Steps skipped because their loss or gradient was not finite, over all sessions: each used
    /// its batch and its draws but left the parameters and Adam's moments as they were.
    public private(set) var skippedSteps = 0
    /// Skipped steps in a row so far in this session (a run that keeps producing them is broken).
    private var consecutiveSkippedSteps = 0
    /// How many steps in a row may be skipped before training stops: one bad batch is survivable
    /// (the next batch and the next draws differ), a state that fails on every batch is not.
    public static let maximumConsecutiveSkippedSteps = 10
    /// The time limit of this session (`--time-budget`), or `nil`; not part of the run's identity.
    public var budget: TrainingBudget?
    /// The command line that started the run (kept across resumes; stored for reports).
    public var command: String = ""

    let trainingData: Tensor
    let evaluationData: Tensor
    /// The log: (step, mean loss since the previous row).
    public private(set) var lossSteps: [Double] = []
    public private(set) var losses: [Double] = []
    /// (step, mean test ELBO on the fixed subset, nats).
    public private(set) var evaluationSteps: [Double] = []
    public private(set) var testELBOs: [Double] = []
    var pendingLossSum = 0.0
    var pendingLossCount = 0
    private var cachedEpoch = -1
    private var cachedOrder: [Int] = []

    /// A fresh run: weights drawn from `RandomGenerator(seed: options.seed)`, which then
    /// continues as the training stream.
    public init(configuration: ModelConfiguration, options: TrainingOptions, dataset: LoadedDataset, datasetHash: String,
                communicator: any Communicator = SingleProcessCommunicator()) throws {
        try configuration.validate()
        try options.validate(trainingExamples: dataset.trainCount)
        try Self.validate(processCount: communicator.size, shardCount: options.shardCount)
        self.communicator = communicator
        self.configuration = configuration
        self.options = options
        var generator = RandomGenerator(seed: options.seed)
        self.model = try configuration.makeModel(using: &generator)
        self.generator = generator
        self.optimizer = Adam(parameters: model.namedParameters, learningRate: options.learningRate,
                              maximumGradientNorm: options.maximumGradientNorm)
        self.datasetPath = dataset.path
        self.datasetHash = datasetHash
        trainingData = Tensor(shape: [dataset.trainCount, dataset.dimension], storage: dataset.train)
        let subset = Swift.min(options.evaluationExamples, dataset.testCount)
        evaluationData = Tensor(shape: [dataset.testCount, dataset.dimension], storage: dataset.test).rows(0..<subset)
        guard model.dataDimension == dataset.dimension else {
            throw TrainingError.mismatch("the model expects \(model.dataDimension) dimensions but \(dataset.path) has \(dataset.dimension)")
        }
    }

    /// Indices of the training examples in the batch of step `step` (1-based): the epoch's
    /// permutation (seeded by the run's seed and the epoch) cut into consecutive batches.
    public func batchIndices(step: Int) -> [Int] {
        let n = trainingData.shape[0], b = options.batchSize
        let batchesPerEpoch = n / b
        let epoch = (step - 1) / batchesPerEpoch
        if epoch != cachedEpoch {
            var orderGenerator = RandomGenerator(seed: options.seed ^ 0x5EED_DA7A_0000_0000 &+ UInt64(epoch))
            cachedOrder = orderGenerator.permutation(n)
            cachedEpoch = epoch
        }
        let first = ((step - 1) % batchesPerEpoch) * b
        return Array(cachedOrder[first..<(first + b)])
    }

    /// Takes one optimizer step. A step whose loss or gradient is not finite is skipped: it
    /// uses its batch and its draws, leaves the parameters and Adam's moments as they were and is
    /// counted in ``skippedSteps`` (as mixed-precision trainers skip an overflowing step). After
    /// ``maximumConsecutiveSkippedSteps`` skipped steps in a row, the next non-finite one throws
    /// ``TrainingError/nonFinite(step:what:)`` without touching the parameters. An update that
    /// makes a parameter or a moment non-finite (a huge `--lr` can) throws at once: the run is
    /// then unusable, and since the step is not counted and ``train(checkpoint:progress:shouldStop:)``
    /// stops, no checkpoint of that state is ever written.
    public func trainStep() throws {
        let next = step + 1
        let value: Double
        if options.shardCount == 1 {
            let batch = trainingData.gather(rows: batchIndices(step: next))
            let loss = model.trainingLoss(batch, step: next, using: &generator)
            value = Double(loss.scalar)
            guard value.isFinite else { return try skipStep(next, what: "loss (\(value))") }
            loss.backward()
        } else {
            value = try shardedGradient(step: next)
            guard value.isFinite else { return try skipStep(next, what: "loss (\(value))") }
        }
        let norm = optimizer.gradientNorm()
        guard norm.isFinite else { return try skipStep(next, what: "gradient norm (\(norm))") }
        consecutiveSkippedSteps = 0
        optimizer.update()
        // The update kernels report what they wrote; the whole state is scanned only to name it.
        if optimizer.lastUpdateWroteNonFinite {
            throw TrainingError.nonFinite(step: next, what: "\(optimizer.firstNonFiniteState() ?? "the state") after the update")
        }
        step = next
        pendingLossSum += value
        pendingLossCount += 1
        if step % options.logEvery == 0 || step == options.steps { flushLoss() }
    }

    /// Processes and shards that fit together: one process needs no shards; N > 1 processes need
    /// N a power of two and at least N shards, so that each holds one whole subtree of the
    /// ``GradientTree``.
    static func validate(processCount: Int, shardCount: Int) throws {
        guard processCount > 1 else { return }
        guard GradientTree.isPowerOfTwo(processCount) else {
            throw TrainingError.invalidOption("\(processCount) processes: data-parallel training needs 1, 2, 4, 8, … processes (mpirun -np)")
        }
        guard shardCount >= processCount else {
            throw TrainingError.invalidOption("--shards \(shardCount) is fewer than the \(processCount) processes: give --shards \(processCount) or more "
                + "(a power of two dividing --batch-size), the same for every process count the run will use")
        }
    }

    /// Forms step `step`'s gradient from its shards and leaves it in the parameters' gradients,
    /// scaled by 1/M so that it is the gradient of the batch mean; returns the batch's mean loss
    /// (NaN or infinite when a shard's is). This process computes the shards of its rank's
    /// subtree; the processes' subtree sums are added by ``Communicator/treeSum(_:)`` and the
    /// shards' losses gathered in shard order (docs/scaling.md#the-order-of-the-sum).
    public func shardedGradient(step: Int) throws -> Double {
        let indices = batchIndices(step: step)
        let shardCount = options.shardCount, shardSize = indices.count / shardCount
        let shardsPerProcess = shardCount / communicator.size
        let parameters = model.namedParameters.map(\.tensor)
        let parameterCount = parameters.reduce(0) { $0 + $1.count }
        var leaves: [[Float]] = []
        var shardLosses: [Float] = []
        // A parameter no shard's graph reaches keeps no gradient, as on the one-shard path (Adam
        // leaves such a parameter and its moments alone). Which parameters a shard's graph reaches
        // can depend on its data (the HVAE's free bits make a layer's KL a constant, cutting its
        // prior network off, when that shard's KL is small), so the processes combine their flags:
        // a parameter any shard reached gets the summed gradient everywhere.
        var reached = [Bool](repeating: false, count: parameters.count)
        let first = communicator.rank * shardsPerProcess
        for shard in first ..< first + shardsPerProcess {
            var shardGenerator = RandomGenerator(seed: options.seed, stream: [UInt64(step), UInt64(shard)])
            let rows = Array(indices[(shard * shardSize) ..< ((shard + 1) * shardSize)])
            let loss = model.trainingLoss(trainingData.gather(rows: rows), step: step, using: &shardGenerator)
            shardLosses.append(loss.scalar)
            loss.backward()
            var leaf: [Float] = []
            leaf.reserveCapacity(parameterCount)
            for (index, parameter) in parameters.enumerated() {
                if let gradient = parameter.gradient {
                    leaf += gradient
                    reached[index] = true
                } else {
                    leaf += repeatElement(0, count: parameter.count)
                }
            }
            leaves.append(leaf)
            model.zeroGradients()
        }
        let subtree = GradientTree.sum(leaves)
        var total: [Float]
        var losses: [Float]
        if communicator.size == 1 {
            total = subtree
            losses = shardLosses
        } else {
            // The top log₂ N levels of the tree, over the processes' subtree sums in rank order,
            // then every shard's loss in shard order.
            // The barrier separates waiting for the slowest process (imbalance) from moving the
            // data, so that the two can be told apart (docs/scaling.md#measured).
            let waitStarted = Date()
            try communicator.barrier()
            waitingSeconds += Date().timeIntervalSince(waitStarted)
            let communicationStarted = Date()
            total = try communicator.treeSum(subtree)
            // Each process's shard losses, then its reached flags (1 or 0 per parameter).
            let width = shardsPerProcess + parameters.count
            let gathered = try communicator.allGather(shardLosses + reached.map { $0 ? 1 : 0 })
            guard gathered.count == width * communicator.size else {
                throw TrainingError.mismatch("the processes gathered \(gathered.count) losses and flags for step \(step), "
                    + "expected \(width * communicator.size)")
            }
            losses = []
            for rank in 0 ..< communicator.size {
                let block = gathered[(rank * width) ..< ((rank + 1) * width)]
                losses += block.prefix(shardsPerProcess)
                for (index, flag) in block.dropFirst(shardsPerProcess).enumerated() where flag != 0 { reached[index] = true }
            }
            communicationSeconds += Date().timeIntervalSince(communicationStarted)
            let levels = Double(communicator.size.trailingZeroBitCount)
            communicatedBytes += Double(MemoryLayout<Float>.size)
                * (2 * levels * Double(parameterCount) + Double(width * (communicator.size + 1)))
        }
        guard total.count == parameterCount, losses.count == shardCount else {
            throw TrainingError.mismatch("the processes combined \(total.count) gradient values and \(losses.count) losses for step \(step), "
                + "expected \(parameterCount) and \(shardCount)")
        }
        // 1/M is a power of two: the scaling is exact.
        let scale = 1 / Float(shardCount)
        for i in total.indices { total[i] *= scale }
        var offset = 0
        for (index, parameter) in parameters.enumerated() {
            if reached[index] { parameter.replaceGradient(Array(total[offset ..< (offset + parameter.count)])) }
            offset += parameter.count
        }
        var lossSum = 0.0
        for loss in losses { lossSum += Double(loss) }
        return lossSum / Double(shardCount)
    }

    /// Skips step `next` (see ``trainStep()``), or throws when too many were skipped in a row.
    private func skipStep(_ next: Int, what: String) throws {
        model.zeroGradients()
        guard consecutiveSkippedSteps < Self.maximumConsecutiveSkippedSteps else {
            throw TrainingError.nonFinite(step: next, what: what + " at \(consecutiveSkippedSteps + 1) steps in a row, from step \(next - consecutiveSkippedSteps),")
        }
        consecutiveSkippedSteps += 1
        skippedSteps += 1
        step = next
        if step % options.logEvery == 0 || step == options.steps { flushLoss() }
    }

    private func flushLoss() {
        guard pendingLossCount > 0 else { return }
        lossSteps.append(Double(step))
        losses.append(pendingLossSum / Double(pendingLossCount))
        pendingLossSum = 0
        pendingLossCount = 0
    }

    /// The mean ELBO (β = 1) on the fixed test subset, with a generator of its own so that
    /// evaluating never changes the training stream. For a continuous-time DDPM it is ELBO_∞, the
    /// bound it trains on (one network pass per example, where ELBO_T costs T).
    public func testELBO() -> Double {
        var evaluationGenerator = RandomGenerator(seed: options.seed ^ 0xE1B0_0000_0000_0000 &+ UInt64(step))
        let terms = GradientMode.withoutRecording {
            if let continuous = model as? ContinuousTimeDDPM { return continuous.continuousELBO(evaluationData, using: &evaluationGenerator) }
            return model.elbo(evaluationData, using: &evaluationGenerator)
        }
        return MeanEstimate(terms.elbo).mean
    }

    /// Records the test ELBO at the current step.
    public func recordTestELBO() throws {
        let value = testELBO()
        guard value.isFinite else { throw TrainingError.nonFinite(step: step, what: "test ELBO (\(value))") }
        evaluationSteps.append(Double(step))
        testELBOs.append(value)
    }

    /// Throws ``TrainingError/nonFinite(step:what:)`` unless every parameter and Adam moment is
    /// finite: the last check before a checkpoint is written.
    public func checkFiniteState() throws {
        if let bad = optimizer.firstNonFiniteState() { throw TrainingError.nonFinite(step: step, what: bad) }
    }

    /// Trains until `options.steps` or until the ``budget`` is spent (which makes the step it is
    /// spent at the last), calling `checkpoint` at every checkpoint interval and at the end,
    /// `progress` after every step, and stopping early (after a checkpoint) when `shouldStop`
    /// says so. Returns whether the run reached its last step (or its budget). Every checkpoint
    /// is preceded by ``checkFiniteState()``.
    @discardableResult
    public func train(checkpoint: (TrainingRun) throws -> Void, progress: (TrainingRun) -> Void = { _ in },
                      shouldStop: () -> Bool = { false }) throws -> Bool {
        while step < options.steps {
            if budgetSpent { return true }
            let started = Date()
            let cpuStarted = TrainingBudget.processCPUSeconds()
            let multiplyAddsStarted = MultiplyAddCounter.total
            let guardedStarted = GuardCounter.total
            try trainStep()
            var stepMultiplyAdds = Double(MultiplyAddCounter.total &- multiplyAddsStarted)
            var stepGuardedOutputs = Double(GuardCounter.total &- guardedStarted)
            trainingCPUSeconds += TrainingBudget.processCPUSeconds() - cpuStarted
            trainingSeconds += Date().timeIntervalSince(started)
            // Every process must stop at the same step: a budget spent or a stop asked for on any
            // of them stops them all.
            var spent = budgetSpent, stopRequested = shouldStop()
            if communicator.size > 1 {
                (spent, stopRequested, stepMultiplyAdds, stepGuardedOutputs) = try combineAcrossProcesses(
                    budgetSpent: spent, stopRequested: stopRequested, multiplyAdds: stepMultiplyAdds, guardedOutputs: stepGuardedOutputs)
            }
            trainingMultiplyAdds += stepMultiplyAdds
            guardedOutputs += stepGuardedOutputs
            if spent && step < options.steps {
                // The budget ends the run here, as `--steps` equal to this step would have.
                options.steps = step
                flushLoss()
            }
            let monitoringStarted = Date()
            if options.evaluateEvery > 0 && step % options.evaluateEvery == 0 && step != options.steps { try recordTestELBO() }
            if step == options.steps { try recordTestELBO() }
            monitoringSeconds += Date().timeIntervalSince(monitoringStarted)
            progress(self)
            // A skipped step is not checkpointed (unless it is the last): resuming then replays the
            // skipped run from its last update, and fails at the same step if it fails.
            if step == options.steps || (options.checkpointEvery > 0 && step % options.checkpointEvery == 0 && consecutiveSkippedSteps == 0) {
                try checkFiniteState()
                try checkpoint(self)
            }
            if stopRequested && step < options.steps {
                try checkFiniteState()
                try checkpoint(self)
                return false
            }
        }
        return true
    }

    /// One small gather per step when there are several processes: the stop flags, each true when
    /// it is true on any process (so that all stop at the same step), and the step's multiply–adds
    /// and guarded outputs summed over the processes, in rank order (each counted only its shards).
    private func combineAcrossProcesses(budgetSpent: Bool, stopRequested: Bool, multiplyAdds: Double, guardedOutputs: Double)
        throws -> (Bool, Bool, Double, Double) {
        let fields = 4
        let communicationStarted = Date()
        let values = try communicator.allGatherVariable([budgetSpent ? 1 : 0, stopRequested ? 1 : 0, multiplyAdds, guardedOutputs])
        communicationSeconds += Date().timeIntervalSince(communicationStarted)
        // The counts' gather (one Int32 each) and the values (four Doubles each).
        communicatedBytes += Double((MemoryLayout<Int32>.size + fields * MemoryLayout<Double>.size) * (1 + communicator.size))
        guard values.count == fields * communicator.size else {
            throw TrainingError.mismatch("the processes gathered \(values.count) step counters, expected \(fields * communicator.size)")
        }
        var spent = false, stop = false, totalMultiplyAdds = 0.0, totalGuarded = 0.0
        for rank in 0 ..< communicator.size {
            spent = spent || values[fields * rank] != 0
            stop = stop || values[fields * rank + 1] != 0
            totalMultiplyAdds += values[fields * rank + 2]
            totalGuarded += values[fields * rank + 3]
        }
        return (spent, stop, totalMultiplyAdds, totalGuarded)
    }

    /// Whether the session's ``budget`` is used up.
    public var budgetSpent: Bool {
        guard let budget else { return false }
        return budgetClockSeconds >= budget.seconds
    }

    /// The seconds of the ``budget``'s clock spent so far (wall-clock seconds without a budget).
    public var budgetClockSeconds: Double {
        budget?.spent(wallSeconds: trainingSeconds, cpuSeconds: trainingCPUSeconds) ?? trainingSeconds
    }

    func restoreState(step: Int, generator: RandomGenerator, lossSteps: [Double], losses: [Double],
                      evaluationSteps: [Double], testELBOs: [Double], pendingLossSum: Double, pendingLossCount: Int,
                      trainingSeconds: Double, trainingCPUSeconds: Double, monitoringSeconds: Double,
                      trainingMultiplyAdds: Double, guardedOutputs: Double, skippedSteps: Int, command: String) {
        self.trainingCPUSeconds = trainingCPUSeconds
        self.monitoringSeconds = monitoringSeconds
        self.trainingMultiplyAdds = trainingMultiplyAdds
        self.guardedOutputs = guardedOutputs
        self.skippedSteps = skippedSteps
        self.command = command
        self.step = step
        self.generator = generator
        self.lossSteps = lossSteps
        self.losses = losses
        self.evaluationSteps = evaluationSteps
        self.testELBOs = testELBOs
        self.pendingLossSum = pendingLossSum
        self.pendingLossCount = pendingLossCount
        self.trainingSeconds = trainingSeconds
    }

    /// Sets the total step count of a resumed run (extending it, or the same).
    public func setTotalSteps(_ steps: Int) throws {
        guard steps >= step else {
            throw TrainingError.invalidOption("--steps \(steps) is below the \(step) steps the run has already taken")
        }
        options.steps = steps
    }
}
