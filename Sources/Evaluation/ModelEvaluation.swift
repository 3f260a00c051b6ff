#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The estimates of one model on one set of test examples: the per-example values as measured,
/// and every aggregate as a computed property delegating to the estimator of its own file.
///
/// All values are nats per example. For each example i:
/// - ELBO(xᵢ) and its per-layer terms, averaged over R draws (``Core/ELBOTerms/average(of:)``);
/// - IWAE_K(xᵢ) for each K, by disjoint groups of one set of K_max weights
///   (``importanceWeightedBounds(logWeights:exampleCount:sampleCounts:)``);
/// - the gap IWAE_{K_max}(xᵢ) − ELBO(xᵢ) (``boundGapEstimate(importanceWeightedBound:evidenceLowerBound:)``);
/// - with a known data density log q(xᵢ): H, KL_joint and KL_marginal (``KnownDensityKL``);
/// - the effective sample size of the K_max weights and the rise of log p̂ with K (``ConvergenceDiagnostic``).
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
    /// Kish's effective sample size of each example's K_max importance weights, in [1, K_max]
    /// (``effectiveSampleSizes(logWeights:exampleCount:)``); nil for evaluations that did not keep it.
    public let effectiveSampleSize: [Double]?
    /// The sandwich bounds on samples drawn from the model (``SandwichBounds``), when measured
    /// (`compare eval --sandwich N`); they concern the model's own samples, not these test examples.
    public var sandwich: SandwichBounds?

    public init(exampleCount: Int, dataDimension: Int, sampleCounts: [Int], elbo: [Double], reconstruction: [Double],
                layerNames: [String], layerKL: [[Double]], iwae: [[Double]], logDensity: [Double]?,
                effectiveSampleSize: [Double]? = nil, sandwich: SandwichBounds? = nil) {
        self.exampleCount = exampleCount
        self.dataDimension = dataDimension
        self.sampleCounts = sampleCounts
        self.elbo = elbo
        self.reconstruction = reconstruction
        self.layerNames = layerNames
        self.layerKL = layerKL
        self.iwae = iwae
        self.logDensity = logDensity
        self.effectiveSampleSize = effectiveSampleSize
        self.sandwich = sandwich
    }

    public var maximumSampleCount: Int { sampleCounts.last! }
    /// IWAE at the largest K: the report's log p̂(x₀).
    public var logLikelihood: [Double] { iwae.last! }

    public var elboEstimate: MeanEstimate { MeanEstimate(elbo) }
    public var logLikelihoodEstimate: MeanEstimate { MeanEstimate(logLikelihood) }
    public func iwaeEstimate(_ j: Int) -> MeanEstimate { MeanEstimate(iwae[j]) }
    /// Mean of the paired per-example gap IWAE_{K_max} − ELBO.
    public var gapEstimate: MeanEstimate { boundGapEstimate(importanceWeightedBound: logLikelihood, evidenceLowerBound: elbo) }
    public var reconstructionEstimate: MeanEstimate { MeanEstimate(reconstruction) }
    public func layerKLEstimate(_ layer: Int) -> MeanEstimate { MeanEstimate(layerKL[layer]) }

    /// H, KL_joint and KL_marginal, when the data density is known.
    public var knownDensityKL: KnownDensityKL? {
        logDensity.map { KnownDensityKL(logDensity: $0, evidenceLowerBound: elbo, importanceWeightedBound: logLikelihood) }
    }
    /// H = −E[log q(x₀)], when known.
    public var entropyEstimate: MeanEstimate? { knownDensityKL?.entropy }
    /// KL(q(x₀, z) ‖ p(x₀, z)) = E[log q(x₀) − ELBO(x₀)], when the density is known.
    public var jointKLEstimate: MeanEstimate? { knownDensityKL?.joint }
    /// An upper estimate of KL(q(x₀) ‖ p(x₀)): E[log q(x₀) − IWAE_{K_max}(x₀)], when known.
    public var marginalKLEstimate: MeanEstimate? { knownDensityKL?.marginal }

    /// The rise of log p̂ with K and the effective sample size: ``ConvergenceDiagnostic``.
    public var convergence: ConvergenceDiagnostic { ConvergenceDiagnostic(self) }

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

extension ModelEvaluation {
    /// Refuses an evaluation with a non-finite ELBO or IWAE_K: a diverged model, whose numbers
    /// would poison every mean of the report.
    public func checkFinite() throws {
        if let bad = elbo.firstIndex(where: { !$0.isFinite }) {
            throw EvaluationError.nonFinite("the ELBO of test example \(bad) is not finite (\(elbo[bad])): the model has diverged")
        }
        for (j, values) in iwae.enumerated() {
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw EvaluationError.nonFinite("IWAE_\(sampleCounts[j]) of test example \(bad) is not finite (\(values[bad])): the model has diverged")
            }
        }
    }
}
