import Foundation
import NN
import Tensor

extension VAE {
    /// q(z | x) = N(μ_φ(x), diag σ²_φ(x)) for the one latent layer (docs/math.md#mutual-information-bounds).
    public func latentPosterior(layer: Int, of x: Tensor) -> LatentGaussians? {
        guard layer == 1 else { return nil }
        let q = GradientMode.withoutRecording { posterior(x) }
        let n = x.shape[0], k = q.mean.shape[1]
        return LatentGaussians(means: (0..<n).map { i in (0..<k).map { Double(q.mean.storage[i * k + $0]) } },
                               variances: (0..<n).map { i in (0..<k).map { exp(Double(q.logVariance.storage[i * k + $0])) } })
    }
}
