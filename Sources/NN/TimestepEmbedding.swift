import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Sinusoidal embedding of integer timesteps (Vaswani et al.; Ho et al.):
/// e(t) = [sin(t·f₀), …, sin(t·f_{h−1}), cos(t·f₀), …, cos(t·f_{h−1})],
/// fᵢ = exp(−log(10000) · i / h), h = dimension / 2.
///
/// Shapes: `timesteps` [batch] → [batch, dimension]. A constant: no parameters.
public func sinusoidalTimestepEmbedding(_ timesteps: [Int], dimension: Int) -> Tensor {
    precondition(dimension % 2 == 0 && dimension > 0, "the embedding dimension must be even")
    let half = dimension / 2
    var frequencies = [Float](repeating: 0, count: half)
    for i in 0..<half { frequencies[i] = Float(exp(-log(10000.0) * Double(i) / Double(half))) }
    var values = [Float](repeating: 0, count: timesteps.count * dimension)
    for (row, t) in timesteps.enumerated() {
        for i in 0..<half {
            let angle = Float(t) * frequencies[i]
            values[row * dimension + i] = sinf(angle)
            values[row * dimension + half + i] = cosf(angle)
        }
    }
    return Tensor(shape: [timesteps.count, dimension], storage: values)
}
