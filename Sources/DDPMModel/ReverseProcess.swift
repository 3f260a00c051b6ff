import NN

/// The reverse process p_θ(x_{t−1} | x_t) of a DDPM given its network's outputs, and the
/// per-timestep term L_{t−1} of the negative ELBO: improved-diffusion's `p_mean_variance` and
/// `_vb_terms_bpd`, written once, generic over ``DiffusionOperand`` and used by the exact ELBO,
/// the importance weights, sampling (one Double element at one t) and the vlb/hybrid training
/// loss (a Float32 batch [batch, D], one t per row).
///
/// No network here: ε̂ and v are passed in. The per-timestep constants come from ``diffusion``.
struct ReverseProcess: Sendable {
    let diffusion: GaussianDiffusion
    let variance: ReverseVariance
    /// Whether x̂_0 is clipped to [−1, 1] (``DDPMConfiguration/clipsPredictedStart``).
    let clipsPredictedStart: Bool
    /// Levels of the discretized decoder p_θ(x_0 | x_1) on the diffusion scale (binary → 2), or
    /// `nil` for the Gaussian density of continuous data.
    let decoderLevels: Int?

    init(diffusion: GaussianDiffusion, variance: ReverseVariance, clipsPredictedStart: Bool, decoderLevels: Int?) {
        self.diffusion = diffusion
        self.variance = variance
        self.clipsPredictedStart = clipsPredictedStart
        self.decoderLevels = decoderLevels
    }

    /// (μ_θ(x_t, t), log σ_t²) of p_θ(x_{t−1} | x_t) = N(μ_θ, σ_t² I):
    ///   x̂_0 = √(1/ᾱ_t) x_t − √(1/ᾱ_t − 1) ε̂, clipped to [−1, 1] when ``clipsPredictedStart``,
    ///   μ_θ = μ̃_t(x_t, x̂_0) = c₁ x̂_0 + c₂ x_t,
    ///   log σ_t² by ``variance`` (learned-range mixes log β̃_t and log β_t by v).
    /// Shapes: `xt`, `epsilon` (ε̂) and `interpolation` (v; `nil` unless learned-range) alike;
    /// the log-variance is a per-t constant ([batch, 1] for tensors) for the fixed variances.
    /// docs/math.md#reverse-step
    @inline(__always)
    func reverseMeanAndLogVariance<Operand: DiffusionOperand>(
        xt: Operand, epsilon: Operand, interpolation: Operand?, at t: Operand.Timesteps
    ) -> (mean: Operand, logVariance: Operand) {
        var start = diffusion.predictedStart(xt: xt, epsilon: epsilon, at: t)
        if clipsPredictedStart { start = start.clippedToUnitInterval() }
        let mean = diffusion.posteriorMean(start: start, xt: xt, at: t)
        return (mean, diffusion.reverseLogVariance(variance, interpolation: interpolation, at: t))
    }

    /// log p_θ(x_0 | x_1) per element, in the decoder family of the data: the discretized
    /// Gaussian with log-scale ½ log σ_1² on `decoderLevels` levels, or the Gaussian density.
    /// docs/math.md#decoder-l0
    @inline(__always)
    func decoderLogLikelihood<Operand: DiffusionOperand>(start: Operand, mean: Operand, logVariance: Operand) -> Operand {
        if let levels = decoderLevels {
            return .discretizedGaussianLogProbability(start, mean: mean, logScale: logVariance * .constant(0.5), levels: levels)
        }
        return .gaussianLogDensity(start, mean: mean, logVariance: logVariance)
    }

    /// KL(q(x_{t−1} | x_t, x_0) ‖ N(mean, e^{logVariance})) per element, with q's log-variance
    /// log β̃_t clipped (β̃_2 at t = 1) so that it stays finite. docs/math.md#per-timestep-bound-term
    @inline(__always)
    func denoisingKL<Operand: DiffusionOperand>(start: Operand, xt: Operand, mean: Operand, logVariance: Operand,
                                                at t: Operand.Timesteps) -> Operand {
        .gaussianKL(mean1: diffusion.posteriorMean(start: start, xt: xt, at: t), logVariance1: diffusion.posteriorLogVariance(at: t),
                    mean2: mean, logVariance2: logVariance)
    }

    /// L_{t−1} per element (nats), for x_t drawn from q(x_t | x_0):
    ///   t ≥ 2: L_{t−1} = KL(q(x_{t−1} | x_t, x_0) ‖ p_θ(x_{t−1} | x_t)),
    ///   t = 1: L_0 = −log p_θ(x_0 | x_1).
    /// Shapes as in ``reverseMeanAndLogVariance(xt:epsilon:interpolation:at:)``; `start` is x_0
    /// on the diffusion scale. docs/math.md#per-timestep-bound-term, docs/math.md#decoder-l0
    @inline(__always)
    func boundTerm<Operand: DiffusionOperand>(start: Operand, xt: Operand, epsilon: Operand, interpolation: Operand?,
                                              at t: Operand.Timesteps) -> Operand {
        let model = reverseMeanAndLogVariance(xt: xt, epsilon: epsilon, interpolation: interpolation, at: t)
        return Operand.whereFirstStep(t, { -decoderLogLikelihood(start: start, mean: model.mean, logVariance: model.logVariance) },
                                      otherwise: { denoisingKL(start: start, xt: xt, mean: model.mean, logVariance: model.logVariance, at: t) })
    }
}
