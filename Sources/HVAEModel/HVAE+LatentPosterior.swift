import NN
import Tensor

extension HVAE {
    /// `nil`: the marginal q(z_L | x) of the top layer integrates over the layers below it (a
    /// Gaussian mixture when L > 1), so it has no closed form; lesson 3 reports only its
    /// KL-to-prior bound.
    public func latentPosterior(layer: Int, of x: Tensor) -> LatentGaussians? { nil }
}
