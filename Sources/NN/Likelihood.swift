import Tensor

/// The decoder family p(x | ·), shared by all three models on a given dataset.
///
/// - `continuous`: Gaussian N(μ, diag σ²); a density in nats (toy data).
/// - `binary`: Bernoulli with logits, data in {0, 1}.
/// - `discrete(levels:)`: ``DiscretizedGaussian`` on [−1, 1] with one bin per level.
///
/// A decoder emits ``outputsPerDimension`` · D values per example, laid out as
/// [first parameter (D) | second parameter (D)].
public enum Likelihood: Equatable, Sendable {
    case continuous
    case binary
    case discrete(levels: Int)

    /// Parses the dataset attribute: `continuous`, `binary`, or `discrete` with its levels.
    public init?(name: String, levels: Int?) {
        switch name {
        case "continuous": self = .continuous
        case "binary": self = .binary
        case "discrete":
            guard let levels, levels >= 2 else { return nil }
            self = .discrete(levels: levels)
        default: return nil
        }
    }

    /// The dataset-file spelling.
    public var name: String {
        switch self {
        case .continuous: return "continuous"
        case .binary: return "binary"
        case .discrete: return "discrete"
        }
    }

    /// The number of levels of discrete data (2 for binary), `nil` for densities.
    public var levels: Int? {
        switch self {
        case .continuous: return nil
        case .binary: return 2
        case .discrete(let levels): return levels
        }
    }

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
        case .continuous:
            return DiagonalGaussian(mean: output.slice(axis: 1, 0..<d), logVariance: output.slice(axis: 1, d..<(2 * d)))
                .logDensityPerElement(x)
        case .binary:
            return Bernoulli(logits: output).logProbabilityPerElement(x)
        case .discrete(let levels):
            return DiscretizedGaussian(mean: output.slice(axis: 1, 0..<d), logScale: output.slice(axis: 1, d..<(2 * d)), levels: levels)
                .logProbabilityPerElement(x)
        }
    }

    /// A draw of x from the decoder output.
    public func sample(decoderOutput output: Tensor, dimension d: Int, using generator: inout RandomGenerator) -> Tensor {
        switch self {
        case .continuous:
            return GradientMode.withoutRecording {
                DiagonalGaussian(mean: output.slice(axis: 1, 0..<d), logVariance: output.slice(axis: 1, d..<(2 * d))).sample(using: &generator)
            }
        case .binary:
            return Bernoulli(logits: output).sample(using: &generator)
        case .discrete(let levels):
            return DiscretizedGaussian(mean: output.slice(axis: 1, 0..<d), logScale: output.slice(axis: 1, d..<(2 * d)), levels: levels)
                .sample(using: &generator)
        }
    }
}
