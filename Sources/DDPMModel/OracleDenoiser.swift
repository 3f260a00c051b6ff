import Core
import NN
import Tensor

/// The Bayes-optimal noise predictor for data whose density is a Gaussian mixture: no
/// parameters, no training. For x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε it returns
///
///     ε̂*(x_t, t) = E[ε | x_t] = −√(1 − ᾱ_t) ∇ log q(x_t),
///
/// in closed form from the noised mixture q(x_t) (``NoisedMixture``; docs/math.md#oracle-denoiser).
/// ε̂* minimises the simple loss at every t, and μ_θ formed from it (docs/math.md#reverse-step)
/// is the true reverse mean E[x_{t−1} | x_t]; only the Gaussian shape and the fixed variance of
/// p_θ(x_{t−1} | x_t) remain approximations. A DDPM around it (``DDPM/withOracleDenoiser(configuration:mixture:)``)
/// therefore separates the bound's own looseness from a trained network's error.
///
/// The mixture must be the density *on the diffusion scale*: continuous data are diffused as
/// stored, so that is the dataset's own density. It emits ε̂ only ([rows, D]): a DDPM using it
/// needs a fixed reverse variance.
///
/// Shapes: `xt` [rows, D], `timesteps` one t ∈ 1…T per row → [rows, D] (Float32). The noised
/// mixture of each t is built on first use and kept (not thread-safe, like every module).
public final class OracleDenoiser: TimestepDenoisingNetwork {
    /// q(x_0) on the diffusion scale.
    public let mixture: GaussianMixture
    /// ᾱ_t, t = 1…T at positions 0…T − 1.
    public let alphasCumprod: [Double]
    /// q(x_t) per t, built on first use.
    private var noisedMixtures: [NoisedMixture?]

    /// The oracle of `mixture` under the forward process of `diffusion`.
    public init(mixture: GaussianMixture, diffusion: GaussianDiffusion) {
        self.mixture = mixture
        alphasCumprod = diffusion.alphasCumprod
        noisedMixtures = Array(repeating: nil, count: diffusion.timestepCount)
    }

    /// T.
    public var timestepCount: Int { alphasCumprod.count }

    /// q(x_t) at t ∈ 1…T.
    public func noisedMixture(at t: Int) -> NoisedMixture {
        precondition((1...timestepCount).contains(t), "timestep \(t) outside 1…\(timestepCount)")
        if let cached = noisedMixtures[t - 1] { return cached }
        let noised = mixture.noised(alphaBar: alphasCumprod[t - 1])
        noisedMixtures[t - 1] = noised
        return noised
    }

    /// ε̂*(x_t, t) row by row, computed in Double and returned as Float32 [rows, D].
    public func denoise(_ xt: Tensor, timesteps: [Int]) -> Tensor {
        let rows = xt.shape[0], dimension = mixture.dimension
        precondition(xt.shape == [rows, dimension] && timesteps.count == rows,
                     "the oracle takes x_t [rows, \(dimension)] and one timestep per row, got \(xt.shape) and \(timesteps.count) timesteps")
        let values = xt.storage
        var output = [Float](repeating: 0, count: rows * dimension)
        for row in 0..<rows {
            let point = values[(row * dimension)..<((row + 1) * dimension)].map(Double.init)
            let prediction = noisedMixture(at: timesteps[row]).noisePrediction(point)
            for d in 0..<dimension { output[row * dimension + d] = Float(prediction[d]) }
        }
        return Tensor(shape: [rows, dimension], storage: output)
    }

    /// Not available: ε̂* is a closed form in t, which an embedding e(s(t)) does not give back.
    /// ``DDPM/network(_:timesteps:)`` calls ``denoise(_:timesteps:)`` instead.
    public func denoise(_ xt: Tensor, embedding: Tensor) -> Tensor {
        preconditionFailure("the oracle denoiser reads timesteps, not embeddings: call denoise(_:timesteps:)")
    }
}
