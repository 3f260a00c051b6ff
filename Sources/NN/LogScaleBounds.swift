import Tensor

/// The bounds every network output read as a log-scale is guarded to (``Tensor/guarded(to:)``;
/// docs/math.md#log-scale-guards): the encoders' and the HVAE priors' log σ², the continuous
/// decoders' log σ² and the discretized decoders' log σ.
///
/// They are wide: σ from 4.5·10⁻⁵ to 148 where data lie in [−1, 1] and priors are N(0, I).
/// Healthy runs meet them only in Adam's first few steps, whose overshoot briefly takes some
/// decoder log σ past 5, where a pixel's distribution is spread over every level (checkpoints
/// record `guarded_outputs`). They exist for the run that goes wrong: one burst of Adam steps
/// once took an MLP encoder's log σ² from 0.6 to 42.9 in 21 steps; z = μ + e^{21}·ε then drove
/// the decoder's outputs to 10⁹ and its likelihood to −∞. Bounded, such a run keeps finite
/// losses and is pulled back by them.
public enum LogScaleBounds {
    /// Bounds on log σ² of a Gaussian a network predicts.
    public static let logVariance: ClosedRange<Float> = -20...10
    /// Bounds on log σ of a discretized Gaussian a decoder predicts: half of ``logVariance``.
    public static let logScale: ClosedRange<Float> = -10...5
}
