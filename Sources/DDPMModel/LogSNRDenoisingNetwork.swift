import Tensor

/// A denoiser that reads γ = −log SNR itself rather than its embedding: closed-form denoisers
/// (the linear-Gaussian one of the tests, an oracle) whose output is a formula in the noise
/// level. ``ContinuousTimeDDPM/network(_:negativeLogSNR:)`` calls ``denoise(_:negativeLogSNR:)``
/// when its denoiser conforms, so every estimate and the loss go through it unchanged.
/// Shapes: `zt` [rows, D], one γ per row → ε̂ [rows, D].
public protocol LogSNRDenoisingNetwork: DenoisingNetwork {
    func denoise(_ zt: Tensor, negativeLogSNR: Tensor) -> Tensor
}
