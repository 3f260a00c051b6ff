import Core
import DDPMModel
import Distributed
import Evaluation
import Foundation
import NN
import Store
import Tensor
import Training

/// One `compare eval`: ELBO, IWAE_K, the paired gap and (on known densities) both KLs of a
/// checkpoint on the first ``examples`` test examples, stored under its `/evaluation` group.
public struct EvaluationRequest: Equatable, Sendable {
    /// The checkpoint file.
    public var checkpoint: String
    /// The K values of IWAE_K; the largest must be a multiple of each.
    public var sampleCounts: [Int]
    /// Test examples (the first N of the split); `nil` for all.
    public var examples: Int?
    /// Seed of the evaluation's draws.
    public var seed: UInt64
    /// Examples per model call.
    public var batchSize: Int
    /// Independent ELBO draws averaged per example.
    public var elboDraws: Int
    /// Threads of the engine's products.
    public var threads: Int
    /// Whose noise predictions a DDPM's evaluation uses: its trained network, or the closed-form
    /// oracle of its dataset's Gaussian-mixture density (printed only, never stored).
    public var denoiser: EvaluationDenoiser
    /// N, the model samples of the sandwich bounds (docs/math.md#sandwich-bounds), or `nil` for none.
    /// Drawn after the test evaluation from the same generator, so the test numbers do not change.
    public var sandwich: Int?
    /// How the draws are laid out: one stream through the batches, or one per batch (which
    /// `mpirun` needs; docs/scaling.md#sharded-evaluation).
    public var streams: EvaluationStreams
    /// The T a continuous-time DDPM is read at (`--timesteps`): its ELBO_T, IWAE_K and sandwich
    /// use T + 1 latent layers; `nil` for the T stored with it. Refused for other models.
    public var timesteps: Int?
    /// Draws of (t, ε) per example for a continuous-time DDPM's ELBO_∞, one network pass each
    /// (`--continuous-draws`); `nil` for ``elboDraws``. A T = 1000 evaluation costs thousands
    /// of passes per example, so a hundred more make ELBO_∞'s noise from t negligible for little.
    /// Refused for other models.
    public var continuousDraws: Int?

    public static let defaultSampleCounts = [1, 10, 100, 1000]

    public init(checkpoint: String, sampleCounts: [Int] = EvaluationRequest.defaultSampleCounts, examples: Int? = nil, seed: UInt64 = 1,
                batchSize: Int = 50, elboDraws: Int = 10, threads: Int = 1, denoiser: EvaluationDenoiser = .network,
                sandwich: Int? = nil, streams: EvaluationStreams = .sequential, timesteps: Int? = nil, continuousDraws: Int? = nil) {
        self.streams = streams
        self.continuousDraws = continuousDraws
        self.timesteps = timesteps
        self.checkpoint = checkpoint
        self.sampleCounts = sampleCounts
        self.examples = examples
        self.seed = seed
        self.batchSize = batchSize
        self.elboDraws = elboDraws
        self.threads = threads
        self.denoiser = denoiser
        self.sandwich = sandwich
    }

    /// The words after `compare`: options equal to the defaults are left out.
    public var arguments: [String] {
        let defaults = EvaluationRequest(checkpoint: checkpoint)
        var words = ["eval", checkpoint]
        if let examples { words += ["--examples", String(examples)] }
        if sampleCounts != defaults.sampleCounts { words += ["--samples", sampleCounts.map(String.init).joined(separator: ",")] }
        if seed != defaults.seed { words += ["--seed", String(seed)] }
        if batchSize != defaults.batchSize { words += ["--batch-size", String(batchSize)] }
        if elboDraws != defaults.elboDraws { words += ["--elbo-draws", String(elboDraws)] }
        if threads != defaults.threads { words += ["--threads", String(threads)] }
        if denoiser != defaults.denoiser { words += ["--denoiser", denoiser.rawValue] }
        if let sandwich { words += ["--sandwich", String(sandwich)] }
        if streams != defaults.streams { words += ["--streams", streams.rawValue] }
        if let timesteps { words += ["--timesteps", String(timesteps)] }
        if let continuousDraws { words += ["--continuous-draws", String(continuousDraws)] }
        return words
    }

    public var commandLine: String { shellCommand(arguments) }

    /// Checks the options on their own.
    public func validate() throws {
        guard !sampleCounts.isEmpty else { throw PipelineError("--samples: empty list; give K values such as 1,10,100") }
        if let bad = sampleCounts.first(where: { $0 < 1 }) { throw PipelineError("--samples: K must be at least 1, got \(bad)") }
        if let examples, examples < 1 { throw PipelineError("--examples must be at least 1, got \(examples)") }
        guard batchSize >= 1 else { throw PipelineError("--batch-size must be at least 1, got \(batchSize)") }
        guard threads >= 1 else { throw PipelineError("--threads must be at least 1, got \(threads)") }
        guard elboDraws >= 1 else { throw PipelineError("--elbo-draws must be at least 1, got \(elboDraws)") }
        if let continuousDraws, continuousDraws < 1 { throw PipelineError("--continuous-draws must be at least 1, got \(continuousDraws)") }
        if let timesteps, timesteps < 1 { throw PipelineError("--timesteps must be at least 1, got \(timesteps)") }
        if let timesteps, timesteps > ModelConfiguration.maximumSize { throw PipelineError("--timesteps \(timesteps) is beyond any machine (at most 2^40)") }
        if let sandwich, sandwich < 2 {
            throw PipelineError("--sandwich must be at least 2 model samples (a standard error needs two), got \(sandwich)")
        }
        try checkMemoryOfOptions()
    }

    /// Evaluates the checkpoint, stores the result under `/evaluation` and returns the lines to
    /// print; the checkpoint's lock is held from before it is read until it is rewritten. With
    /// the oracle denoiser nothing is stored (``runOracle(quiet:)``).
    ///
    /// With several processes (`mpirun`, ``EvaluationStreams/perBatch`` only), every process reads
    /// the checkpoint and computes its share of the batches; rank 0 alone holds the lock, writes
    /// the result and returns the lines to print (the others return ""). An error on any process
    /// must end the whole job: the caller passes it to ``Communicator/abort(_:status:)``.
    @discardableResult
    public func run(quiet: Bool = false, communicator: any Communicator = SingleProcessCommunicator()) throws -> String {
        try validate()
        guard communicator.size == 1 || streams == .perBatch else {
            throw PipelineError("--streams sequential draws every batch from one stream, which \(communicator.size) processes cannot share: "
                + "add --streams per-batch (the same option gives the same numbers without mpirun)")
        }
        guard communicator.size == 1 || denoiser == .network else {
            throw PipelineError("--denoiser oracle runs on one process; start it without mpirun")
        }
        LinearAlgebra.setThreadCount(threads)
        if denoiser == .oracle { return try runOracle(quiet: quiet) }
        // The evaluation is rewritten into the file it evaluates: lock it before loading, so
        // that no writer replaces the parameters between the read and the rewrite.
        let claim: OutputClaim? = communicator.isRoot && FileManager.default.fileExists(atPath: checkpoint)
            ? try claimOutput(checkpoint, option: nil, kind: .checkpoint, rule: .update("\(checkpoint): no such file")) : nil
        defer { claim?.release() }
        // The other processes read the checkpoint only once rank 0 holds its lock: every process
        // then evaluates the same parameters, the ones rank 0 writes the result beside.
        if communicator.size > 1 { try communicator.barrier() }
        if BaselineCheckpoint.isBaseline(at: checkpoint) {
            guard communicator.size == 1 else { throw PipelineError("\(checkpoint): a baseline's exact log-likelihood needs no mpirun; evaluate it on one process") }
            return try runBaseline()
        }
        let run = try LoadedRun(path: checkpoint)
        let started = Date()
        let guardedStarted = GuardCounter.total
        let continuous = try readAtRequestedTimesteps(run)
        if continuousDraws != nil && continuous == nil {
            let what = run.checkpoint.model == "ddpm" ? "a DDPM of a finite T, whose ELBO has no continuous-time limit to draw" : "a \(run.checkpoint.model)"
            throw PipelineError("--continuous-draws is an option of continuous-time DDPMs; \(checkpoint) holds \(what)")
        }
        let evaluation = try evaluateTestSplit(of: run, model: run.model, quiet: quiet || !communicator.isRoot, communicator: communicator)
        guard communicator.isRoot else { return "" }
        var record = EvaluationRecord(evaluation: evaluation, seed: seed, command: commandLine)
        var continuousLine = ""
        if let continuous {
            // ELBO_∞ beside ELBO_T, on the same examples, from a stream of its own (so that no
            // other number moves): docs/math.md#continuous-time-elbo.
            let limit = try continuousELBO(of: continuous, run: run)
            // ELBO_T ≤ ELBO_∞ example by example in expectation: the paired difference is the
            // check, free of the spread between examples that dominates either mean's s.e.
            let excess = MeanEstimate(pairedDifferenceOf: limit.perExample, minus: evaluation.elbo)
            record.attributes["timesteps"] = .integer(Int64(continuous.timestepCount))
            record.attributes["continuous_draws"] = .integer(Int64(continuousDrawCount))
            record.attributes["continuous_elbo"] = .double(limit.elbo.mean)
            record.attributes["continuous_elbo_standard_error"] = .double(limit.elbo.standardError)
            record.attributes["continuous_elbo_excess"] = .double(excess.mean)
            record.attributes["continuous_elbo_excess_standard_error"] = .double(excess.standardError)
            record.attributes["continuous_reconstruction"] = .double(limit.reconstruction)
            record.attributes["continuous_diffusion"] = .double(limit.diffusion)
            record.attributes["continuous_prior"] = .double(limit.prior)
            continuousLine = "\n" + continuousELBOLine(limit, excess: excess, timesteps: continuous.timestepCount)
        }
        record.attributes["elbo_draws"] = .integer(Int64(elboDraws))
        record.attributes["random_streams"] = .string(streams.rawValue)
        record.attributes["processes"] = .integer(Int64(communicator.size))
        // What the evaluation cost, for reports (a DDPM's IWAE_K costs K·T network passes per example).
        record.attributes["seconds"] = .double(Date().timeIntervalSince(started))
        record.attributes["threads"] = .integer(Int64(threads))
        // Outputs the log-scale guards moved (docs/math.md#log-scale-guards): 0 when these are
        // the unguarded model's numbers.
        let guarded = GuardCounter.total &- guardedStarted
        record.attributes["guarded_outputs"] = .integer(Int64(clamping: guarded))
        try Checkpoint.updateEvaluation(at: checkpoint, with: record)
        reportImpossibleResults(evaluation)
        return evaluationSummary(evaluation, model: run.checkpoint.model, path: checkpoint) + continuousLine
            + (guarded > 0 ? "\nnote: the log-scale guards moved \(guarded) network outputs into their bounds (docs/math.md#log-scale-guards)" : "")
    }

    /// Every estimate of `model` (the run's own, or another model of the same data) on the
    /// first ``examples`` test examples of `run`'s dataset, with the request's seed and options.
    func evaluateTestSplit(of run: LoadedRun, model: any LatentVariableModel, quiet: Bool,
                           communicator: any Communicator = SingleProcessCommunicator()) throws -> ModelEvaluation {
        let testCount = run.dataset.testCount
        let n = Swift.min(examples ?? testCount, testCount)
        var configuration = run.configuration
        if case .ddpm(var c) = configuration, c.continuousTime != nil, let continuous = model as? ContinuousTimeDDPM {
            c.timestepCount = continuous.timestepCount
            configuration = .ddpm(c)
        }
        try checkMemory(configuration: configuration, examples: n)
        let data = Tensor(shape: [testCount, run.dataset.dimension], storage: run.dataset.test).rows(0..<n)
        let logDensity = run.dataset.testLogDensity.map { Array($0.prefix(n)) }
        var generator = RandomGenerator(seed: seed)
        let progress = ProgressReporter("eval \(run.checkpoint.model)", total: n, unit: "examples")
        do {
            var evaluation = try GradientMode.withoutRecording {
                switch streams {
                case .sequential:
                    return try evaluate(model, data: data, sampleCounts: sampleCounts, logDensity: logDensity, batchSize: batchSize,
                                        elboDraws: elboDraws, using: &generator, progress: { done in if !quiet { progress.update(done) } })
                case .perBatch:
                    // The sandwich continues from the stream after the last batch's.
                    generator = RandomGenerator(seed: seed, stream: [UInt64((n + batchSize - 1) / batchSize)])
                    return try evaluate(model, data: data, sampleCounts: sampleCounts, logDensity: logDensity, batchSize: batchSize,
                                        elboDraws: elboDraws, seed: seed, communicator: communicator,
                                        progress: { done in if !quiet { progress.update(done) } })
                }
            }
            // Every process holds the same evaluation; rank 0 alone, which writes it, draws the sandwich.
            if let sandwich, communicator.isRoot {
                let sandwichProgress = ProgressReporter("sandwich \(run.checkpoint.model)", total: sandwich, unit: "model samples")
                evaluation.sandwich = try evaluateSandwich(model, count: sandwich, sampleCounts: sampleCounts, batchSize: batchSize,
                                                           using: &generator, progress: { done in if !quiet { sandwichProgress.update(done) } }).bounds
            }
            return evaluation
        } catch let error as EvaluationError {
            throw PipelineError("\(checkpoint): \(error)")  // e.g. a non-finite estimate: name the checkpoint
        }
    }
}

extension EvaluationRequest {
    /// One line on stderr per broken entropy ceiling (docs/math.md#entropy-ceiling), besides the
    /// summary's IMPOSSIBLE line: a result no correct estimator can give must not pass unseen in a
    /// script that only watches stderr. The exit status stays 0: the numbers are stored and a
    /// report shows them under the same warning.
    func reportImpossibleResults(_ evaluation: ModelEvaluation) {
        for check in boundInequalityChecks(evaluation) where check.holds == false {
            guard let ceiled = check.inequality.ceiledEstimate else { continue }
            let line = "compare eval: \(checkpoint): impossible result: the mean \(ceiled.estimate) is above the data's entropy ceiling -H by more "
                + "than 3 s.e.; a density is wrong (docs/math.md#entropy-ceiling)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
