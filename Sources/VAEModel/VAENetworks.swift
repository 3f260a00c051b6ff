import NN
import Tensor

/// The encoder of a ``VAE``: rows x [rows, D] → [rows, 2·latent] laid out [μ | log σ²] of
/// q(z | x), whatever the architecture, so that the estimators read every encoder alike.
public protocol VAEEncoderNetwork: Module {
    func encode(_ x: Tensor) -> Tensor
}

/// The decoder of a ``VAE``: z [rows, latent] → the parameters of p(x | z), [rows, k·D] laid out
/// [first parameter (D) | second parameter (D)] (k = ``Likelihood/outputsPerDimension``),
/// whatever the architecture.
public protocol VAEDecoderNetwork: Module {
    func decode(_ z: Tensor) -> Tensor
}

/// The MLP networks: the VAE's property names make their keys `encoder.layers.<i>.weight|bias`
/// and `decoder.layers.<i>.weight|bias`, as every MLP checkpoint has them.
extension MLP: VAEEncoderNetwork, VAEDecoderNetwork {
    public func encode(_ x: Tensor) -> Tensor { self(x) }
    public func decode(_ z: Tensor) -> Tensor { self(z) }
}
