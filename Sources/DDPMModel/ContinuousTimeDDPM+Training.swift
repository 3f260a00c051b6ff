import Core
import NN
import Tensor

extension ContinuousTimeDDPM {
    /// −ELBO_∞ of one batch `x` [batch, D], mean over the batch (nats per example):
    ///
    ///   L = −log p(x | z_0) + KL(q(z_1 | x) ‖ N(0, I)) + ½ γ'(t) ‖ε − ε̂(z_t; t)‖²,
    ///
    /// one draw of z_0 and one t per example, the t spread over the batch as tᵢ = (u + i/B) mod 1
    /// (low-discrepancy: each tᵢ is uniform, their mean varies less). The ε-network and the
    /// schedule's end points descend L; a learned schedule's shape descends the batch mean of
    /// (½ γ'(t) ‖ε − ε̂‖²)², VDM's variance-minimizing gradient (``LogSNRSchedule/trainingValues(at:shapeGradientScale:)``).
    /// docs/math.md#continuous-time-elbo
    public func trainingLoss(_ x: Tensor, step: Int, using generator: inout RandomGenerator) -> Tensor {
        let batch = x.shape[0]
        let offset = generator.nextUniform()
        let times = (0..<batch).map { Float((offset + Double($0) / Double(batch)).truncatingRemainder(dividingBy: 1)) }
        let noise = Tensor.randomNormal(shape: x.shape, using: &generator)
        let startNoise = Tensor.randomNormal(shape: x.shape, using: &generator)
        let terms = trainingTerms(x, times: times, noise: noise, startNoise: startNoise)
        return (terms.reconstruction + terms.prior + terms.diffusion).mean()
    }

    /// The three terms of the training loss per example, [batch, 1] each (reconstruction as
    /// −log p(x | z_0)), at given t, ε (for z_t) and ε₀ (for z_0): the Float32 path the loss
    /// takes, which tests hold against the Double estimates at the same draws.
    public func trainingTerms(_ x: Tensor, times: [Float], noise: Tensor, startNoise: Tensor)
        -> (reconstruction: Tensor, prior: Tensor, diffusion: Tensor) {
        let dimension = dataDimension
        let x0 = trainingScale(x)
        let shapeGradientScale = RowGradientScale()
        let gamma = schedule.trainingValues(at: times, shapeGradientScale: shapeGradientScale)
        // α = exp(−½ softplus(γ)), σ = exp(−½ softplus(−γ)): finite for every γ.
        let alpha = (gamma.value.softplus() * -0.5).exp()
        let sigma = ((-gamma.value).softplus() * -0.5).exp()
        let zt = x0 * alpha + noise * sigma
        let squaredError = (network(zt, negativeLogSNR: gamma.value) - noise).squared().sum(axis: 1, keepingDimensions: true)
        let diffusion = gamma.derivative * squaredError * 0.5
        shapeGradientScale.scales = diffusion.storage.map { 2 * $0 }

        // KL(q(z_1|x) ‖ N(0, I)) = ½ Σ_d (σ_1² + α_1² x_d² − log σ_1² − 1).
        let alphaSquared1 = (-gamma.end).sigmoid(), sigmaSquared1 = gamma.end.sigmoid()
        let logSigmaSquared1 = -((-gamma.end).softplus())
        let squaredNorm = x0.squared().sum(axis: 1, keepingDimensions: true)
        let prior = (alphaSquared1 * squaredNorm + (sigmaSquared1 - logSigmaSquared1 - 1) * Float(dimension)) * 0.5

        // −log p(x | z_0): z_0/α_0 = x + e^{γ_0/2} ε₀, scale e^{γ_0/2}.
        let logScale = gamma.start * 0.5
        let rescaled = x0 + startNoise * logScale.exp()
        let logLikelihood: Tensor
        if let levels = decoderLevels {
            logLikelihood = DiscretizedGaussian(mean: rescaled, logScale: logScale, levels: levels).logProbabilityPerElement(x0)
        } else {
            logLikelihood = DiagonalGaussian(mean: rescaled, logVariance: gamma.start).logDensityPerElement(x0)
        }
        let reconstruction = -logLikelihood.sum(axis: 1, keepingDimensions: true)
        return (reconstruction, prior, diffusion)
    }
}
