import Core
import Tensor

/// Independent Bernoulli variables given by their logits ℓ: P(x = 1) = σ(ℓ).
///
/// log p(x) = x ℓ − softplus(ℓ), which never overflows.
public struct Bernoulli {
    public let logits: Tensor

    public init(logits: Tensor) { self.logits = logits }

    /// x ℓ − softplus(ℓ) for every element; `x` holds 0 or 1.
    public func logProbabilityPerElement(_ x: Tensor) -> Tensor { x * logits - logits.softplus() }

    /// log p(x) per example, summed over the last axis → [batch]: for [batch, D] logits and data
    /// one fused operation (``Tensor/bernoulliLogLikelihood(logits:observations:)``, the same bits
    /// as the sum of ``logProbabilityPerElement(_:)``).
    public func logProbability(_ x: Tensor) -> Tensor {
        guard logits.rank == 2, x.shape == logits.shape else { return logProbabilityPerElement(x).sum(axis: -1) }
        return Tensor.bernoulliLogLikelihood(logits: logits, observations: x)
    }

    /// log p(x) per example of [batch, D] logits and data, without recording, each sum kept in
    /// Double (the per-element terms' `rowSumsInDouble()`).
    public func logProbabilityInDouble(_ x: Tensor) -> [Double] {
        guard logits.rank == 2, x.shape == logits.shape else {
            return GradientMode.withoutRecording { logProbabilityPerElement(x).rowSumsInDouble() }
        }
        return Tensor.bernoulliLogLikelihoodInDouble(logits: logits, observations: x)
    }

    /// KL(self ‖ other) = Σ p₁ (log p₁ − log p₂) + (1 − p₁)(log(1 − p₁) − log(1 − p₂)), per example,
    /// with log p = log σ(ℓ) and log(1 − p) = log σ(−ℓ) kept in log space.
    public func kl(to other: Bernoulli) -> Tensor {
        let p1 = logits.sigmoid()
        let one = p1 * (logits.logSigmoid() - other.logits.logSigmoid())
        let zero = (1 - p1) * ((-logits).logSigmoid() - (-other.logits).logSigmoid())
        return (one + zero).sum(axis: -1)
    }

    /// Draws 0/1 values (not differentiable).
    public func sample(using generator: inout RandomGenerator) -> Tensor {
        let probabilities = GradientMode.withoutRecording { logits.sigmoid() }
        let values = probabilities.storage.map { p -> Float in Float(generator.nextUniform()) < p ? 1 : 0 }
        return Tensor(shape: logits.shape, storage: values)
    }

    /// The mean σ(ℓ).
    public var mean: Tensor { logits.sigmoid() }
}
