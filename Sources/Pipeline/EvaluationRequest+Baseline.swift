import Core
import Evaluation
import Store

extension EvaluationRequest {
    /// `compare eval` of a baseline checkpoint (``BaselineCheckpoint``): the exact log p(x) of the
    /// first ``examples`` test examples recomputed from its counts (read and checked by
    /// ``LoadedBaseline``) and stored as its `/evaluation`, exactly as `compare baseline` stores
    /// it. Nothing is sampled, so `--samples`, `--seed`, `--elbo-draws` and `--batch-size` do not
    /// change the result and are left out of the stored command. The caller holds the
    /// checkpoint's lock.
    func runBaseline() throws -> String {
        let loaded = try LoadedBaseline(path: checkpoint)
        let logLikelihoods = try loaded.logLikelihoods(examples: examples)
        var words = ["eval", checkpoint]
        if let examples { words += ["--examples", String(examples)] }
        let record = BaselineCheckpoint.evaluationRecord(logLikelihoods, dimension: loaded.baseline.dimension, command: shellCommand(words))
        try Checkpoint.updateEvaluation(at: checkpoint, with: record)
        return "\(checkpoint): " + exactBaselineSummary(loaded.baseline, logLikelihoods: logLikelihoods)
            + " (exact: ELBO = IWAE_K = log p(x) for every K; --samples, --seed and --elbo-draws do not apply)"
    }
}
