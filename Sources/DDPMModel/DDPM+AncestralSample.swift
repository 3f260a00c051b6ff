import Core
import NN
import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

extension DDPM {
    /// Samples as ``sample(count:using:)`` with the Markov-chain log weight of the reverse chain
    /// x_T … x_1 that generated each x_0 (docs/math.md#sandwich-bounds):
    ///
    ///     log w = log N(x_T; 0, I) + Σ_{t=2}^{T} log p_θ(x_{t−1} | x_t) + log p_θ(x_0 | x_1) − Σ_{t=1}^{T} log q(x_t | x_{t−1}),
    ///
    /// q(x_t | x_{t−1}) = N(√α_t x_{t−1}, β_t I): the weight ``logImportanceWeights(_:samples:using:)``
    /// gives a chain drawn from q, here at the chain drawn from p_θ. Clipping of x̂_0 and the
    /// discretized decoder are part of p_θ, so the weight stays exact.
    public func ancestralSample(count: Int, using generator: inout RandomGenerator) -> AncestralSample {
        let draws = ancestralChains(count: count, weighted: true, using: &generator)
        return AncestralSample(samples: draws.samples, generatingLogWeights: draws.logWeights!)
    }

    /// The one reverse-chain loop. With `weighted`, the chain's log weight is accumulated on the
    /// way down from the (μ_θ, log σ_t²) the step computes anyway; no random number is added, so
    /// the samples are the same either way. x_0 enters its two terms as returned: a continuous
    /// value rounded to Float, a discrete one on its level (on the diffusion scale).
    func ancestralChains(count: Int, weighted: Bool, using generator: inout RandomGenerator) -> (samples: Tensor, logWeights: [Double]?) {
        let dimension = dataDimension
        var current = (0..<(count * dimension)).map { _ in generator.nextNormal() }
        var result = [Float](repeating: 0, count: count * dimension)
        var logWeight = [Double](repeating: 0, count: weighted ? count : 0)
        if weighted {
            for j in 0..<(count * dimension) { logWeight[j / dimension] += GaussianFormulas.logDensity(current[j], mean: 0, logVariance: 0) }
        }
        for t in stride(from: configuration.timestepCount, through: 1, by: -1) {
            let output = predict(current, timesteps: [Int](repeating: t, count: count))
            let rootAlpha = diffusion.alphas[t - 1].squareRoot()
            let logBeta = log(diffusion.betas[t - 1])
            var next = current
            output.withUnsafeBufferPointer { output in
                for r in 0..<count {
                    for d in 0..<dimension {
                        let j = r * dimension + d
                        let p = reverseStep(t, xt: current[j], output: output, row: r, d: d)
                        let draw = p.mean + exp(0.5 * p.logVariance) * generator.nextNormal()
                        if t > 1 {
                            next[j] = draw
                            if weighted {
                                logWeight[r] += GaussianFormulas.logDensity(draw, mean: p.mean, logVariance: p.logVariance)
                                    - GaussianFormulas.logDensity(current[j], mean: rootAlpha * draw, logVariance: logBeta)
                            }
                            continue
                        }
                        // t = 1: x_0 on the diffusion scale, then stored on the dataset's scale.
                        let (start, stored) = decodedSample(draw, levels: decoderLevels, binary: likelihood == .binary)
                        result[j] = stored
                        if weighted {
                            logWeight[r] += reverseProcess.decoderLogLikelihood(start: start, mean: p.mean, logVariance: p.logVariance)
                                - GaussianFormulas.logDensity(current[j], mean: rootAlpha * start, logVariance: logBeta)
                        }
                    }
                }
            }
            current = next
        }
        return (Tensor(shape: [count, dimension], storage: result), weighted ? logWeight : nil)
    }
}
