import Core
import Evaluation
import NN
import Tensor

/// Computes every estimate of `model` on `data` [n, D]: the one place where the models meet the
/// estimators. It draws the model's ELBO terms and log importance weights batch by batch and
/// leaves every formula to Evaluation (``ELBOTerms/average(of:)``,
/// ``importanceWeightedBounds(logWeights:exampleCount:sampleCounts:)``,
/// ``effectiveSampleSizes(logWeights:exampleCount:)``); the weights are not kept.
///
/// Per batch the generator is used in a fixed order: the R ELBO draws, then the K_max importance
/// samples, so one seed gives the same numbers whatever else changes around it.
///
/// - Parameters:
///   - sampleCounts: the K values of IWAE_K (each ≥ 1); the largest must be a multiple of each.
///   - logDensity: log q(xᵢ) per example when the data density is known, else nil.
///   - batchSize: examples per call of the model.
///   - elboDraws: R, independent ELBO estimates averaged per example (the reconstruction and the
///     sampled KL terms are Monte Carlo; averaging R draws divides their variance by R, so the
///     paired gap is not dominated by one noisy draw).
///   - progress: called with the number of examples done.
public func evaluate(_ model: some LatentVariableModel, data: Tensor, sampleCounts: [Int], logDensity: [Double]?,
                     batchSize: Int = 100, elboDraws: Int = 10, using generator: inout RandomGenerator,
                     progress: (Int) -> Void = { _ in }) throws -> ModelEvaluation {
    let counts = try validatedSampleCounts(sampleCounts)
    let largest = counts.last!
    let n = data.shape[0]
    guard n >= 1 else { throw EvaluationError.invalidOption("no examples to evaluate") }
    guard batchSize >= 1 else { throw EvaluationError.invalidOption("the evaluation batch size must be at least 1") }
    guard elboDraws >= 1 else { throw EvaluationError.invalidOption("the number of ELBO draws must be at least 1") }
    if let logDensity, logDensity.count != n {
        throw EvaluationError.invalidOption("the data have \(n) examples but \(logDensity.count) log-densities")
    }
    if data.storage.contains(where: { !$0.isFinite }) { throw EvaluationError.nonFinite("the evaluation data contain NaN or infinite values") }

    var terms: ELBOTerms? = nil
    var iwae = [[Double]](repeating: [], count: counts.count)
    var effectiveSampleSize: [Double] = []
    var start = 0
    while start < n {
        let end = Swift.min(n, start + batchSize)
        let batch = data.rows(start..<end)
        var draws: [ELBOTerms] = []
        for _ in 0..<elboDraws { draws.append(model.elbo(batch, using: &generator)) }
        let batchTerms = ELBOTerms.average(of: draws)
        if terms == nil { terms = batchTerms } else { terms!.append(batchTerms) }
        let weights = model.logImportanceWeights(batch, samples: largest, using: &generator)
        let batchBounds = importanceWeightedBounds(logWeights: weights.values, exampleCount: weights.batch, sampleCounts: counts)
        for j in counts.indices { iwae[j] += batchBounds[j] }
        effectiveSampleSize += effectiveSampleSizes(logWeights: weights.values, exampleCount: weights.batch)
        start = end
        progress(end)
    }
    let result = ModelEvaluation(exampleCount: n, dataDimension: model.dataDimension, sampleCounts: counts,
                                 elbo: terms!.elbo, reconstruction: terms!.reconstruction,
                                 layerNames: terms!.layerNames, layerKL: terms!.layerKL, iwae: iwae, logDensity: logDensity,
                                 effectiveSampleSize: effectiveSampleSize)
    try result.checkFinite()
    return result
}
