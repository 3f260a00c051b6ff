import Core
import Evaluation
import NN
import Tensor

/// The sandwich bounds of `model` on `count` of its own samples (docs/math.md#sandwich-bounds):
/// per batch, ancestral samples with their generating weights
/// (``NN/LatentVariableModel/ancestralSample(count:using:)``), then K_max draws of q for each
/// sample (``NN/LatentVariableModel/logImportanceWeights(_:samples:using:)``), then IWAE_K and U_K
/// from the same draws. The generator is used in that order, batch by batch, after whatever the
/// caller drew before, so `compare eval` without a sandwich keeps its numbers.
///
/// - Parameters:
///   - count: N, the number of model samples.
///   - sampleCounts: the K values (each ≥ 1; the largest a multiple of each).
///   - batchSize: samples per batch (as the evaluation's batch size).
/// - Returns: the bounds and the samples [N, D] they were measured on.
public func evaluateSandwich(_ model: some LatentVariableModel, count: Int, sampleCounts: [Int], batchSize: Int = 100,
                             using generator: inout RandomGenerator,
                             progress: (Int) -> Void = { _ in }) throws -> (bounds: SandwichBounds, samples: Tensor) {
    let counts = try validatedSampleCounts(sampleCounts)
    guard count >= 2 else { throw EvaluationError.invalidOption("--sandwich needs at least 2 model samples (a standard error needs two), got \(count)") }
    guard batchSize >= 1 else { throw EvaluationError.invalidOption("the evaluation batch size must be at least 1") }
    var lower = [[Double]](repeating: [], count: counts.count)
    var upper = [[Double]](repeating: [], count: counts.count)
    var samples: [Tensor] = []
    var done = 0
    while done < count {
        let rows = Swift.min(batchSize, count - done)
        let drawn = GradientMode.withoutRecording { model.ancestralSample(count: rows, using: &generator) }
        if let bad = drawn.samples.storage.firstIndex(where: { !$0.isFinite }) {
            throw EvaluationError.nonFinite("model sample \(done + bad / Swift.max(1, drawn.samples.shape[1])) of the sandwich is "
                + "\(drawn.samples.storage[bad]): the model's sampler diverges, so its samples have no log-likelihood to bracket")
        }
        samples.append(drawn.samples)
        let weights = GradientMode.withoutRecording {
            model.logImportanceWeights(drawn.samples, samples: counts.last!, using: &generator)
        }
        let lowerBatch = importanceWeightedBounds(logWeights: weights.values, exampleCount: rows, sampleCounts: counts)
        let upperBatch = importanceWeightedUpperBounds(logWeights: weights.values, exactLogWeights: drawn.generatingLogWeights,
                                                       sampleCounts: counts)
        for j in counts.indices {
            lower[j] += lowerBatch[j]
            upper[j] += upperBatch[j]
        }
        done += rows
        progress(done)
    }
    let bounds = SandwichBounds(sampleCounts: counts, lower: lower, upper: upper)
    for (name, rows) in [("lower", lower), ("upper", upper)] {
        for (j, values) in rows.enumerated() {
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw EvaluationError.nonFinite("the sandwich's \(name) bound at K = \(counts[j]) is \(values[bad]) for model sample \(bad): the model has diverged")
            }
        }
    }
    return (bounds, samples.count == 1 ? samples[0] : Tensor.concatenate(samples, axis: 0))
}
