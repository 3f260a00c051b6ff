import Core
import Training

// The memory checks of the requests: each estimates, from sizes alone and before anything is
// allocated, what its command needs (``Training/MemoryBudget`` and the estimates of
// ``Training/ModelConfiguration``), and refuses what exceeds the limit with one line naming
// the option most responsible, the estimate and the limit:
//
//     Error: --hidden 100000,100000 needs about 149.0 GiB of memory (parameters, Adam moments
//     and one batch), more than the limit of 17.9 GiB (75 % of the 23.9 GiB of this machine; …)
//
// The option named is the one whose smallest value lowers the estimate most; when no option
// given on the command line does, the subject is the dataset or the checkpoint.

/// The subject of a refusal: the candidate (a given option, with the estimate at its smallest
/// value) that lowers `bytes` most, else `fallback`.
func memorySubject(bytes: Double, candidates: [(subject: String, bytes: Double)], fallback: String) -> String {
    guard let best = candidates.min(by: { $0.bytes < $1.bytes }), best.bytes < bytes else { return fallback }
    return best.subject
}

/// Throws a ``PipelineError`` naming the subject when `bytes` exceeds the memory limit.
func refuseOverBudget(_ bytes: Double, what: String, candidates: @autoclosure () throws -> [(subject: String, bytes: Double)],
                      fallback: String) throws {
    do {
        guard try MemoryBudget.refusal(bytes, subject: "", what: what) != nil else { return }
        let subject = memorySubject(bytes: bytes, candidates: try candidates(), fallback: fallback)
        if let line = try MemoryBudget.refusal(bytes, subject: subject, what: what) { throw PipelineError(line) }
    } catch let error as PipelineError {
        throw error
    } catch {
        throw PipelineError("\(error)")  // an unreadable COMPARE_MEMORY_LIMIT
    }
}

extension ModelSettings {
    /// Each given size option with these settings at its smallest value (`--hidden` without
    /// hidden layers, one latent, T = 1, E = 2): the candidates for blame.
    var sizeOptionsAtMinimum: [(flag: String, settings: ModelSettings)] {
        var result: [(String, ModelSettings)] = []
        if let hiddenSizes {
            var s = self
            s.hiddenSizes = []
            result.append(("--hidden \(Self.list(hiddenSizes))", s))
        }
        if let latentDimension {
            var s = self
            s.latentDimension = 1
            result.append(("--latent \(latentDimension)", s))
        }
        if let latentSizes {
            var s = self
            s.latentSizes = [1]
            result.append(("--latent-sizes \(Self.list(latentSizes))", s))
        }
        if let timestepCount {
            var s = self
            s.timestepCount = 1
            result.append(("--timesteps \(timestepCount)", s))
        }
        if let embeddingDimension {
            var s = self
            s.embeddingDimension = 2
            result.append(("--embedding \(embeddingDimension)", s))
        }
        if let baseChannels {
            var s = self
            s.baseChannels = 1
            result.append(("--base-channels \(baseChannels)", s))
        }
        return result
    }
}

extension TrainRequest {
    /// Refuses a run whose model, Adam moments and one batch (``ModelConfiguration/trainingBytes(batchSize:evaluationExamples:)``)
    /// cannot fit, for data of `dimension` under `likelihood`. ``validate()`` calls it with the
    /// smallest data (D = 1, binary) so that options alone are refused before any file is read;
    /// ``run(quiet:)`` with the dataset's.
    func checkMemory(dimension: Int, likelihood: Likelihood, image: ImageShape?, fallback: String) throws {
        try checkMemory(settings: settings, dimension: dimension, likelihood: likelihood, image: image, fallback: fallback)
    }

    func checkMemory(settings: ModelSettings, dimension: Int, likelihood: Likelihood, image: ImageShape?, fallback: String) throws {
        func bytes(_ settings: ModelSettings, batchSize: Int) throws -> Double {
            let configuration = try settings.configuration(model: model, dimension: dimension, likelihood: likelihood, image: image)
            do { try configuration.validate() } catch { throw PipelineError("\(error)") }
            return configuration.trainingBytes(batchSize: batchSize, evaluationExamples: training.evaluationExamples)
        }
        let total = try bytes(settings, batchSize: training.batchSize)
        try refuseOverBudget(total, what: "parameters, Adam moments and one batch", candidates:
            try settings.sizeOptionsAtMinimum.map { ($0.flag, try bytes($0.settings, batchSize: training.batchSize)) }
            + [("--batch-size \(training.batchSize)", try bytes(settings, batchSize: 1))],
            fallback: fallback)
    }
}

extension EvaluationRequest {
    /// Refuses an evaluation of `examples` examples of `configuration` that cannot fit
    /// (``ModelConfiguration/evaluationBytes(examples:batchSize:sampleCounts:elboDraws:)``).
    func checkMemory(configuration: ModelConfiguration, examples: Int) throws {
        let total = configuration.evaluationBytes(examples: examples, batchSize: batchSize, sampleCounts: sampleCounts, elboDraws: elboDraws)
        var candidates: [(subject: String, bytes: Double)] = [
            ("--samples \(sampleCounts.map(String.init).joined(separator: ","))",
             configuration.evaluationBytes(examples: examples, batchSize: batchSize, sampleCounts: [1], elboDraws: elboDraws)),
            ("--batch-size \(batchSize)", configuration.evaluationBytes(examples: examples, batchSize: 1, sampleCounts: sampleCounts, elboDraws: elboDraws)),
            ("--elbo-draws \(elboDraws)", configuration.evaluationBytes(examples: examples, batchSize: batchSize, sampleCounts: sampleCounts, elboDraws: 1)),
        ]
        if let given = self.examples {
            candidates.append(("--examples \(given)", configuration.evaluationBytes(examples: 1, batchSize: batchSize, sampleCounts: sampleCounts, elboDraws: elboDraws)))
        }
        try refuseOverBudget(total, what: "the model, one batch's draws and the importance weights", candidates: candidates,
                             fallback: "evaluating \(checkpoint) (\(configuration.summary))")
    }
}

extension EvaluationRequest {
    /// Before any file is read: the log-weights alone, 8 · K_max · b bytes (b = the batch, at
    /// most `--examples`), a lower bound of ``checkMemory(configuration:examples:)``.
    func checkMemoryOfOptions() throws {
        let k = Double(sampleCounts.max() ?? 1), b = Double(Swift.min(batchSize, examples ?? batchSize))
        try refuseOverBudget(8 * k * b, what: "the log importance weights of one batch",
                             candidates: [("--samples \(sampleCounts.map(String.init).joined(separator: ","))", 8 * b),
                                          ("--batch-size \(batchSize)", 8 * k)],
                             fallback: "--samples")
    }
}

extension SampleRequest {
    /// Before any file is read: 3 · 4 · count bytes (the drawn values and their last layer for
    /// D = 1), a lower bound of ``checkMemory(configuration:)``.
    func checkMemoryOfOptions() throws {
        try refuseOverBudget(12 * Double(count), what: "the samples", candidates: [], fallback: "--count \(count)")
    }

    /// Refuses `count` samples of `configuration` that cannot fit (``ModelConfiguration/samplingBytes(count:)``).
    func checkMemory(configuration: ModelConfiguration) throws {
        try refuseOverBudget(configuration.samplingBytes(count: count), what: "the model and every chain at once",
                             candidates: [("--count \(count)", configuration.samplingBytes(count: 1))],
                             fallback: "sampling \(checkpoint) (\(configuration.summary))")
    }
}
