import NN
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The estimates of one model on one set of test examples, per example and aggregated.
///
/// All values are nats per example. For each example i:
/// - ELBO(xᵢ) from the model's ``LatentVariableModel/elbo(_:using:)`` (per-layer terms), averaged over R draws;
/// - IWAE_K(xᵢ) for each K: the K_max importance weights are split into K_max/K disjoint groups
///   of K, and IWAE_K(xᵢ) is the average over groups of log (1/K) Σ_{k∈group} w_k — an unbiased
///   estimate of E[IWAE_K] with less variance than one group;
/// - the gap IWAE_{K_max}(xᵢ) − ELBO(xᵢ), whose mean estimates E_x KL(q(z|x) ‖ p(z|x)) from below.
/// With a known data density log q(xᵢ): KL_joint = mean(log q − ELBO), KL_marginal = mean(log q − IWAE_{K_max}).
public struct ModelEvaluation: Sendable {
    public let exampleCount: Int
    public let dataDimension: Int
    /// The K values, ascending.
    public let sampleCounts: [Int]
    public let elbo: [Double]
    public let reconstruction: [Double]
    public let layerNames: [String]
    /// `layerKL[layer][example]`.
    public let layerKL: [[Double]]
    /// `iwae[j][example]` for K = `sampleCounts[j]`.
    public let iwae: [[Double]]
    /// log q(xᵢ) when the data density is known.
    public let logDensity: [Double]?

    public init(exampleCount: Int, dataDimension: Int, sampleCounts: [Int], elbo: [Double], reconstruction: [Double],
                layerNames: [String], layerKL: [[Double]], iwae: [[Double]], logDensity: [Double]?) {
        self.exampleCount = exampleCount
        self.dataDimension = dataDimension
        self.sampleCounts = sampleCounts
        self.elbo = elbo
        self.reconstruction = reconstruction
        self.layerNames = layerNames
        self.layerKL = layerKL
        self.iwae = iwae
        self.logDensity = logDensity
    }

    public var maximumSampleCount: Int { sampleCounts.last! }
    /// IWAE at the largest K: the report's log p̂(x₀).
    public var logLikelihood: [Double] { iwae.last! }

    public var elboEstimate: MeanEstimate { MeanEstimate(elbo) }
    public var logLikelihoodEstimate: MeanEstimate { MeanEstimate(logLikelihood) }
    public func iwaeEstimate(_ j: Int) -> MeanEstimate { MeanEstimate(iwae[j]) }
    /// Mean of the paired per-example gap IWAE_{K_max} − ELBO.
    public var gapEstimate: MeanEstimate { MeanEstimate(pairedDifferenceOf: logLikelihood, minus: elbo) }
    public var reconstructionEstimate: MeanEstimate { MeanEstimate(reconstruction) }
    public func layerKLEstimate(_ layer: Int) -> MeanEstimate { MeanEstimate(layerKL[layer]) }

    /// H = −E[log q(x₀)], when known.
    public var entropyEstimate: MeanEstimate? { logDensity.map { MeanEstimate($0.map { -$0 }) } }
    /// KL(q(x₀, z) ‖ p(x₀, z)) = E[log q(x₀) − ELBO(x₀)], when the density is known.
    public var jointKLEstimate: MeanEstimate? { logDensity.map { MeanEstimate(pairedDifferenceOf: $0, minus: elbo) } }
    /// An upper estimate of KL(q(x₀) ‖ p(x₀)): E[log q(x₀) − IWAE_{K_max}(x₀)], when known.
    public var marginalKLEstimate: MeanEstimate? { logDensity.map { MeanEstimate(pairedDifferenceOf: $0, minus: logLikelihood) } }

    /// nats per example → bits per dimension: −1/(D ln 2) (negative log-likelihood in bits).
    public var bitsPerDimensionFactor: Double { -1 / (Double(dataDimension) * log(2)) }
}

/// Why an evaluation cannot run or produced something unusable.
public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    case invalidOption(String)
    case nonFinite(String)

    public var description: String {
        switch self {
        case .invalidOption(let message), .nonFinite(let message): return message
        }
    }
}

/// Computes every estimate of `model` on `data` [n, D].
///
/// - Parameters:
///   - sampleCounts: the K values of IWAE_K (each ≥ 1); the largest must be a multiple of each.
///   - batchSize: examples per call of the model.
///   - elboDraws: independent ELBO estimates averaged per example (the reconstruction and the
///     sampled KL terms are Monte Carlo; averaging R draws divides their variance by R, so the
///     paired gap is not dominated by one noisy draw).
///   - progress: called with the number of examples done.
public func evaluate(_ model: some LatentVariableModel, data: Tensor, sampleCounts: [Int], logDensity: [Double]?,
                     batchSize: Int = 100, elboDraws: Int = 10, using generator: inout RandomGenerator,
                     progress: (Int) -> Void = { _ in }) throws -> ModelEvaluation {
    let counts = Array(Set(sampleCounts)).sorted()
    guard let largest = counts.last else { throw EvaluationError.invalidOption("--samples needs at least one K") }
    guard counts.first! >= 1 else { throw EvaluationError.invalidOption("--samples: every K must be at least 1, got \(counts.first!)") }
    for k in counts where largest % k != 0 {
        throw EvaluationError.invalidOption("--samples: the largest K (\(largest)) must be a multiple of every K, and \(k) does not divide it")
    }
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
    var start = 0
    while start < n {
        let end = Swift.min(n, start + batchSize)
        let batch = data.rows(start..<end)
        var batchTerms = model.elbo(batch, using: &generator)
        if elboDraws > 1 {
            for _ in 1..<elboDraws {
                let more = model.elbo(batch, using: &generator)
                for i in batchTerms.reconstruction.indices { batchTerms.reconstruction[i] += more.reconstruction[i] }
                for l in batchTerms.layerKL.indices { for i in batchTerms.layerKL[l].indices { batchTerms.layerKL[l][i] += more.layerKL[l][i] } }
            }
            let scale = 1 / Double(elboDraws)
            batchTerms.reconstruction = batchTerms.reconstruction.map { $0 * scale }
            batchTerms.layerKL = batchTerms.layerKL.map { $0.map { $0 * scale } }
        }
        if terms == nil { terms = batchTerms } else { terms!.append(batchTerms) }
        let weights = model.logImportanceWeights(batch, samples: largest, using: &generator)
        for (j, k) in counts.enumerated() {
            let groups = largest / k
            for i in 0..<(end - start) {
                var total = 0.0
                for g in 0..<groups {
                    total += logMeanExp((0..<k).map { weights[sample: g * k + $0, example: i] })
                }
                iwae[j].append(total / Double(groups))
            }
        }
        start = end
        progress(end)
    }
    let result = ModelEvaluation(exampleCount: n, dataDimension: model.dataDimension, sampleCounts: counts,
                                 elbo: terms!.elbo, reconstruction: terms!.reconstruction,
                                 layerNames: terms!.layerNames, layerKL: terms!.layerKL, iwae: iwae, logDensity: logDensity)
    if let bad = result.elbo.firstIndex(where: { !$0.isFinite }) {
        throw EvaluationError.nonFinite("the ELBO of test example \(bad) is not finite (\(result.elbo[bad])): the model has diverged")
    }
    for (j, values) in iwae.enumerated() {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw EvaluationError.nonFinite("IWAE_\(counts[j]) of test example \(bad) is not finite (\(values[bad])): the model has diverged")
        }
    }
    return result
}
