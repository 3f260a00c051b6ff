import NN
import Tensor

extension DDPM {
    /// q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I), with x_0 on the diffusion's scale (binary data as
    /// ±1): every layer of the fixed encoder is a Gaussian in closed form
    /// (docs/math.md#diffusion-forward-process).
    public func latentPosterior(layer t: Int, of x: Tensor) -> LatentGaussians? {
        guard t >= 1 && t <= configuration.timestepCount else { return nil }
        let n = x.shape[0], dimension = dataDimension
        let x0 = diffusionScale(x.storage)
        let alphaBar = diffusion.alphasCumprod[t - 1]
        return LatentGaussians(means: (0..<n).map { i in (0..<dimension).map { alphaBar.squareRoot() * x0[i * dimension + $0] } },
                               variances: [[Double]](repeating: [Double](repeating: 1 - alphaBar, count: dimension), count: n))
    }
}
