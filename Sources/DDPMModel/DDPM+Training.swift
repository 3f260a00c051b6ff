import NN
import Tensor

extension DDPM {
    /// The training objective for one batch `x` [batch, D], one uniformly drawn t per example:
    /// - `.simple`: mean over batch and dimensions of (ε − ε̂)²;
    /// - `.vlb`: mean over the batch of T · L_{t−1}(x) (nats; L_0 at t = 1);
    /// - `.hybrid`: simple + (T/1000) · mean of L_{t−1}/D with ε̂ stopped inside the KL, i.e.
    ///   λ = 0.001 on Σ_t L_t, so only the variance learns from it (Nichol & Dhariwal).
    public func trainingLoss(_ x: Tensor, step: Int, using generator: inout RandomGenerator) -> Tensor {
        let batch = x.shape[0], dimension = dataDimension, steps = configuration.timestepCount
        // On the diffusion scale: binary {0, 1} → {−1, 1} (exact in Float); other data as they are.
        let x0 = likelihood == .binary ? Tensor(shape: [batch, dimension], storage: x.storage.map { 2 * $0 - 1 }) : x.detached()
        let timesteps = (0..<batch).map { _ in 1 + generator.nextInt(below: steps) }
        let noise = Tensor.randomNormal(shape: [batch, dimension], using: &generator)
        func column(_ values: [Double]) -> Tensor {
            Tensor(shape: [batch, 1], storage: timesteps.map { Float(values[$0 - 1]) })
        }
        let xt = x0 * column(diffusion.sqrtAlphasCumprod) + noise * column(diffusion.sqrtOneMinusAlphasCumprod)
        let output = network(xt, timesteps: timesteps)
        let epsilon = configuration.variance == .learnedRange ? output.slice(axis: 1, 0..<dimension) : output
        let simple = (epsilon - noise).squared().mean()
        if configuration.loss == .simple { return simple }

        let boundTerms = variationalBoundTerms(x0: x0, xt: xt, timesteps: timesteps, output: output,
                                               stopMeanGradient: configuration.loss == .hybrid)
        if configuration.loss == .vlb { return boundTerms.sum(axis: 1).mean() * Float(steps) }
        return simple + boundTerms.mean() * Float(Double(steps) / 1000)
    }

    /// L_{t−1} per element [batch, D] for each row's t: the KL(q(x_{t−1}|x_t,x_0) ‖ p_θ(x_{t−1}|x_t))
    /// for t ≥ 2, −log p_θ(x_0|x_1) for t = 1.
    func variationalBoundTerms(x0: Tensor, xt: Tensor, timesteps: [Int], output: Tensor, stopMeanGradient: Bool) -> Tensor {
        let batch = x0.shape[0], dimension = dataDimension
        func column(_ values: [Double]) -> Tensor {
            Tensor(shape: [batch, 1], storage: timesteps.map { Float(values[$0 - 1]) })
        }
        var epsilon = configuration.variance == .learnedRange ? output.slice(axis: 1, 0..<dimension) : output
        if stopMeanGradient { epsilon = epsilon.detached() }
        // μ_θ = c₁ x̂₀ + c₂ x_t with x̂₀ = √(1/ᾱ_t) x_t − √(1/ᾱ_t − 1) ε̂.
        var predictedStart = xt * column(diffusion.sqrtRecipAlphasCumprod) - epsilon * column(diffusion.sqrtRecipMinusOneAlphasCumprod)
        if configuration.clipsPredictedStart {
            // Clipped to [−1, 1] like the evaluation path; no gradient flows where it clips.
            predictedStart = Tensor.select(predictedStart.mask { $0 > 1 }, Tensor(1),
                                           Tensor.select(predictedStart.mask { $0 < -1 }, Tensor(-1), predictedStart))
        }
        let modelMean = predictedStart * column(diffusion.posteriorMeanCoefficient1) + xt * column(diffusion.posteriorMeanCoefficient2)
        let logVariance: Tensor
        switch configuration.variance {
        case .fixedSmall, .fixedLarge:
            let values = (1...configuration.timestepCount).map { diffusion.reverseLogVariance($0, configuration.variance) }
            logVariance = column(values)
        case .learnedRange:
            let v = output.slice(axis: 1, dimension..<(2 * dimension))
            let minimum = column(diffusion.posteriorLogVarianceClipped)
            let maximum = column(diffusion.betas.map { _log($0) })
            let fraction = (v + 1) * 0.5
            logVariance = fraction * maximum + (1 - fraction) * minimum
        }
        let model = DiagonalGaussian(mean: modelMean, logVariance: logVariance)
        // q's variance uses the clipped log β̃ so that rows with t = 1 stay finite; those rows
        // take the decoder term below instead.
        let posterior = DiagonalGaussian(
            mean: x0 * column(diffusion.posteriorMeanCoefficient1) + xt * column(diffusion.posteriorMeanCoefficient2),
            logVariance: column(diffusion.posteriorLogVarianceClipped)).detachedParameters()
        let kl = posterior.klPerElement(to: model)
        let decoderNegativeLogLikelihood: Tensor
        if let levels = decoderLevels {
            decoderNegativeLogLikelihood = -DiscretizedGaussian(mean: model.mean, logScale: model.logVariance * 0.5, levels: levels).logProbabilityPerElement(x0)
        } else {
            decoderNegativeLogLikelihood = -model.logDensityPerElement(x0)
        }
        let isFirstStep = Mask(shape: [batch, dimension], values: timesteps.flatMap { [Bool](repeating: $0 == 1, count: dimension) })
        return Tensor.select(isFirstStep, decoderNegativeLogLikelihood, kl)
    }
}

extension DiagonalGaussian {
    /// The same distribution with its parameters cut from the graph.
    func detachedParameters() -> DiagonalGaussian { DiagonalGaussian(mean: mean.detached(), logVariance: logVariance.detached()) }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
#else
import Darwin
@inline(__always) func _log(_ x: Double) -> Double { Darwin.log(x) }
#endif
