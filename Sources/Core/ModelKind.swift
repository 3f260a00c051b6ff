import Core

/// The three latent-variable models the toolkit compares: a checkpoint's `model` attribute,
/// `compare train --model`, and every branch a report makes on what kind of model a run holds.
///
/// | kind | encoder q | latents |
/// |---|---|---|
/// | ``vae`` | q_φ(z \| x), learned | one layer z |
/// | ``hvae`` | q_φ(z_1…z_L \| x), learned | L layers |
/// | ``ddpm`` | q(x_1…x_T \| x_0), a fixed Gaussian noising process, no parameters | T layers the size of x |
public enum ModelKind: String, CaseIterable, Codable, Sendable {
    case vae
    case hvae
    case ddpm

    /// The name a reader sees in tables: "VAE", "HVAE", "DDPM".
    public var displayName: String { rawValue.uppercased() }

    /// Whether the encoder has parameters (the VAE's and the HVAE's) or is a fixed diffusion (the DDPM's).
    public var hasLearnedEncoder: Bool { self != .ddpm }
}
