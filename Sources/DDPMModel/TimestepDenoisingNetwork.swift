import Tensor

/// A denoiser that reads the timestep t ∈ 1…T itself rather than its embedding e(s(t)): the
/// oracle denoiser (``OracleDenoiser``), whose output is a closed form in t that no embedding
/// can be inverted to (the floor scaling maps several t to one s when T > 1000).
///
/// ``DDPM/network(_:timesteps:)`` calls ``denoise(_:timesteps:)`` when its denoiser conforms,
/// so the ELBO, the importance weights, sampling and the losses all go through it unchanged.
/// Shapes: `xt` [rows, D], one t per row → [rows, D] or [rows, 2D], as ``DenoisingNetwork``.
public protocol TimestepDenoisingNetwork: DenoisingNetwork {
    func denoise(_ xt: Tensor, timesteps: [Int]) -> Tensor
}
