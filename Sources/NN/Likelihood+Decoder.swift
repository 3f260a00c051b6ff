import Core
import Tensor

/// What a decoder emits and how it scores and samples data, for each ``Likelihood`` (defined in
/// Core, so that Store and Report can name it without linking the engine).
///
/// A decoder emits ``outputsPerDimension`` · D values per example, laid out as
/// [first parameter (D) | second parameter (D)].
extension Likelihood {
    /// Decoder outputs per data dimension: (μ, log σ²) for continuous, logits for binary,
    /// (μ, log σ) for discrete.
    public var outputsPerDimension: Int {
        switch self {
        case .continuous, .discrete: return 2
        case .binary: return 1
        }
    }

    /// log p(xᵢ | decoder output) per element; `output` [batch, k·D], `x` [batch, D] → [batch, D].
    public func logProbabilityPerElement(of x: Tensor, decoderOutput output: Tensor) -> Tensor {
        let d = x.shape[1]
        switch self {
        case .continuous: return gaussian(decoderOutput: output, dimension: d).logDensityPerElement(x)
        case .binary: return Bernoulli(logits: output).logProbabilityPerElement(x)
        case .discrete(let levels): return discretizedGaussian(decoderOutput: output, dimension: d, levels: levels).logProbabilityPerElement(x)
        }
    }

    /// log p(x | decoder output) per example, [batch, D] → [batch], recorded: the per-element terms
    /// summed over the data dimensions (for binary data one fused operation, the same bits).
    public func logProbability(of x: Tensor, decoderOutput output: Tensor) -> Tensor {
        if case .binary = self { return Bernoulli(logits: output).logProbability(x) }
        return logProbabilityPerElement(of: x, decoderOutput: output).sum(axis: -1)
    }

    /// log p(x | decoder output) per example, each sum over the data dimensions kept in Double
    /// (for evaluations: no gradient flows through these sums).
    public func logProbabilityInDouble(of x: Tensor, decoderOutput output: Tensor) -> [Double] {
        if case .binary = self { return Bernoulli(logits: output).logProbabilityInDouble(x) }
        return logProbabilityPerElement(of: x, decoderOutput: output).rowSumsInDouble()
    }

    /// A draw of x from the decoder output.
    public func sample(decoderOutput output: Tensor, dimension d: Int, using generator: inout RandomGenerator) -> Tensor {
        switch self {
        case .continuous:
            return GradientMode.withoutRecording { gaussian(decoderOutput: output, dimension: d).sample(using: &generator) }
        case .binary:
            return Bernoulli(logits: output).sample(using: &generator)
        case .discrete(let levels):
            return discretizedGaussian(decoderOutput: output, dimension: d, levels: levels).sample(using: &generator)
        }
    }

    /// N(μ, diag σ²) from [μ | log σ²], log σ² guarded to ``LogScaleBounds/logVariance``.
    private func gaussian(decoderOutput output: Tensor, dimension d: Int) -> DiagonalGaussian {
        DiagonalGaussian(mean: output.slice(axis: 1, 0..<d),
                         logVariance: output.slice(axis: 1, d..<(2 * d)).guarded(to: LogScaleBounds.logVariance))
    }

    /// The discretized Gaussian of [μ | log σ], log σ guarded to ``LogScaleBounds/logScale``.
    private func discretizedGaussian(decoderOutput output: Tensor, dimension d: Int, levels: Int) -> DiscretizedGaussian {
        DiscretizedGaussian(mean: output.slice(axis: 1, 0..<d),
                            logScale: output.slice(axis: 1, d..<(2 * d)).guarded(to: LogScaleBounds.logScale), levels: levels)
    }
}
