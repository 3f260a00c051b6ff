import Core
import Distributed
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
///   - generator: the one stream of the ``EvaluationStreams/sequential`` layout, left where the
///     last batch ended.
///   - progress: called with the number of examples done.
public func evaluate(_ model: some LatentVariableModel, data: Tensor, sampleCounts: [Int], logDensity: [Double]?,
                     batchSize: Int = 100, elboDraws: Int = 10, using generator: inout RandomGenerator,
                     progress: (Int) -> Void = { _ in }) throws -> ModelEvaluation {
    let counts = try validatedEvaluationInput(data: data, sampleCounts: sampleCounts, logDensity: logDensity, batchSize: batchSize,
                                              elboDraws: elboDraws)
    let n = data.shape[0]
    var batches: [BatchEstimates] = []
    var start = 0
    while start < n {
        let end = Swift.min(n, start + batchSize)
        batches.append(estimateBatch(model, data.rows(start..<end), sampleCounts: counts, elboDraws: elboDraws, using: &generator))
        start = end
        progress(end)
    }
    return try assembleEvaluation(batches, model: model, sampleCounts: counts, logDensity: logDensity)
}

/// ``evaluate(_:data:sampleCounts:logDensity:batchSize:elboDraws:using:progress:)`` in the
/// ``EvaluationStreams/perBatch`` layout, shared by the `communicator`'s processes: batch b
/// draws from the stream (seed, b); process r computes the r-th of N contiguous runs of batches;
/// one variable gather brings every batch's per-example numbers to every process in batch order.
/// Every process returns the same evaluation, bit for bit the one a single process computes.
public func evaluate(_ model: some LatentVariableModel, data: Tensor, sampleCounts: [Int], logDensity: [Double]?,
                     batchSize: Int = 100, elboDraws: Int = 10, seed: UInt64, communicator: any Communicator,
                     progress: (Int) -> Void = { _ in }) throws -> ModelEvaluation {
    let counts = try validatedEvaluationInput(data: data, sampleCounts: sampleCounts, logDensity: logDensity, batchSize: batchSize,
                                              elboDraws: elboDraws)
    let n = data.shape[0]
    let batchCount = (n + batchSize - 1) / batchSize
    let mine = contiguousShare(of: batchCount, rank: communicator.rank, size: communicator.size)
    var local: [Double] = []
    var localLayerNames: [String] = []
    for batch in mine {
        let rows = (batch * batchSize) ..< Swift.min(n, (batch + 1) * batchSize)
        var generator = RandomGenerator(seed: seed, stream: [UInt64(batch)])
        let estimates = estimateBatch(model, data.rows(rows), sampleCounts: counts, elboDraws: elboDraws, using: &generator)
        local += estimates.flattened
        localLayerNames = estimates.terms.layerNames
        progress(rows.upperBound)
    }
    let gathered = try communicator.allGatherVariable(local)
    // The layers are the model's, the same in every batch. Rank 0 always holds batch 0, so its
    // names reach the processes that had no batch (more processes than batches).
    let names = try communicator.broadcast(Array(localLayerNames.joined(separator: "\n").utf8), root: 0)
    let layerNames = names.isEmpty ? [] : String(decoding: names, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var batches: [BatchEstimates] = []
    var offset = 0
    for batch in 0..<batchCount {
        let examples = Swift.min(n, (batch + 1) * batchSize) - batch * batchSize
        guard let estimates = BatchEstimates(flattened: gathered, at: &offset, exampleCount: examples, layerNames: layerNames,
                                             sampleCountCount: counts.count) else {
            throw EvaluationError.invalidOption("the processes gathered \(gathered.count) numbers, too few for batch \(batch) of \(batchCount)")
        }
        batches.append(estimates)
    }
    guard offset == gathered.count else {
        throw EvaluationError.invalidOption("the processes gathered \(gathered.count) numbers, \(gathered.count - offset) more than \(batchCount) batches hold")
    }
    return try assembleEvaluation(batches, model: model, sampleCounts: counts, logDensity: logDensity)
}

/// ``contiguousShare(of:rank:size:)``, for tests.
public func contiguousShareForTesting(of count: Int, rank: Int, size: Int) -> Range<Int> {
    contiguousShare(of: count, rank: rank, size: size)
}

/// The r-th of `size` contiguous, nearly equal runs of `0 ..< count` (the first `count % size`
/// runs one longer).
func contiguousShare(of count: Int, rank: Int, size: Int) -> Range<Int> {
    let base = count / size, extra = count % size
    let start = rank * base + Swift.min(rank, extra)
    return start ..< (start + base + (rank < extra ? 1 : 0))
}

/// The checks every evaluation makes before drawing: the K values (sorted), the sizes, finite data.
private func validatedEvaluationInput(data: Tensor, sampleCounts: [Int], logDensity: [Double]?, batchSize: Int,
                                      elboDraws: Int) throws -> [Int] {
    let counts = try validatedSampleCounts(sampleCounts)
    let n = data.shape[0]
    guard n >= 1 else { throw EvaluationError.invalidOption("no examples to evaluate") }
    guard batchSize >= 1 else { throw EvaluationError.invalidOption("the evaluation batch size must be at least 1") }
    guard elboDraws >= 1 else { throw EvaluationError.invalidOption("the number of ELBO draws must be at least 1") }
    if let logDensity, logDensity.count != n {
        throw EvaluationError.invalidOption("the data have \(n) examples but \(logDensity.count) log-densities")
    }
    if data.storage.contains(where: { !$0.isFinite }) { throw EvaluationError.nonFinite("the evaluation data contain NaN or infinite values") }
    return counts
}

/// The per-example numbers of one batch: the ELBO terms averaged over the R draws, IWAE_K for
/// every K, and the effective sample size of the K_max weights.
struct BatchEstimates {
    var terms: ELBOTerms
    /// `iwae[j][i]`: IWAE_{K_j} of example i.
    var iwae: [[Double]]
    var effectiveSampleSize: [Double]

    init(terms: ELBOTerms, iwae: [[Double]], effectiveSampleSize: [Double]) {
        self.terms = terms
        self.iwae = iwae
        self.effectiveSampleSize = effectiveSampleSize
    }

    /// The numbers in one array: reconstruction, each layer's KL, each K's IWAE, the ESS, each
    /// over the batch's examples.
    var flattened: [Double] {
        terms.reconstruction + terms.layerKL.flatMap { $0 } + iwae.flatMap { $0 } + effectiveSampleSize
    }

    /// Reads a batch of `exampleCount` examples from `values` at `offset` (advanced past it), in the
    /// layout of ``flattened``; nil when too few values are left.
    init?(flattened values: [Double], at offset: inout Int, exampleCount: Int, layerNames: [String], sampleCountCount: Int) {
        let fields = 2 + layerNames.count + sampleCountCount
        guard offset + fields * exampleCount <= values.count else { return nil }
        func next() -> [Double] {
            defer { offset += exampleCount }
            return Array(values[offset ..< (offset + exampleCount)])
        }
        let reconstruction = next()
        let layerKL = layerNames.map { _ in next() }
        let iwae = (0..<sampleCountCount).map { _ in next() }
        self.init(terms: ELBOTerms(reconstruction: reconstruction, layerNames: layerNames, layerKL: layerKL), iwae: iwae,
                  effectiveSampleSize: next())
    }
}

/// One batch's estimates: the R ELBO draws, then the K_max importance samples, from `generator`.
func estimateBatch(_ model: some LatentVariableModel, _ batch: Tensor, sampleCounts counts: [Int], elboDraws: Int,
                   using generator: inout RandomGenerator) -> BatchEstimates {
    var draws: [ELBOTerms] = []
    for _ in 0..<elboDraws { draws.append(model.elbo(batch, using: &generator)) }
    let weights = model.logImportanceWeights(batch, samples: counts.last!, using: &generator)
    return BatchEstimates(terms: ELBOTerms.average(of: draws),
                          iwae: importanceWeightedBounds(logWeights: weights.values, exampleCount: weights.batch, sampleCounts: counts),
                          effectiveSampleSize: effectiveSampleSizes(logWeights: weights.values, exampleCount: weights.batch))
}

/// The batches' numbers, concatenated in batch order, as one evaluation (checked finite).
private func assembleEvaluation(_ batches: [BatchEstimates], model: some LatentVariableModel, sampleCounts counts: [Int],
                                logDensity: [Double]?) throws -> ModelEvaluation {
    var terms = batches[0].terms
    var iwae = batches[0].iwae
    var effectiveSampleSize = batches[0].effectiveSampleSize
    for batch in batches.dropFirst() {
        terms.append(batch.terms)
        for j in counts.indices { iwae[j] += batch.iwae[j] }
        effectiveSampleSize += batch.effectiveSampleSize
    }
    let result = ModelEvaluation(exampleCount: terms.exampleCount, dataDimension: model.dataDimension, sampleCounts: counts,
                                 elbo: terms.elbo, reconstruction: terms.reconstruction,
                                 layerNames: terms.layerNames, layerKL: terms.layerKL, iwae: iwae, logDensity: logDensity,
                                 effectiveSampleSize: effectiveSampleSize)
    try result.checkFinite()
    return result
}
