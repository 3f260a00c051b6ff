import Tensor

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Sinusoidal embedding of integer timesteps (Vaswani et al.; Ho et al.):
/// e(t) = [sin(t·f₀), …, sin(t·f_{h−1}), cos(t·f₀), …, cos(t·f_{h−1})],
/// fᵢ = exp(−log(10000) · i / h), h = dimension / 2. docs/math.md#timestep-embedding
///
/// Shapes: `timesteps` [batch] → [batch, dimension]. A constant: no parameters.
public func sinusoidalTimestepEmbedding(_ timesteps: [Int], dimension: Int) -> Tensor {
    sinusoidalTimestepEmbedding(values: timesteps.map(Float.init), dimension: dimension)
}

/// The same embedding of real-valued timesteps s (a DDPM's rescaled s(t) = t · 1000 / T, as
/// improved-diffusion embeds its float timesteps): angles s·fᵢ in Float32. For whole numbers s
/// the rows equal those of ``sinusoidalTimestepEmbedding(_:dimension:)`` bit for bit.
public func sinusoidalTimestepEmbedding(values timesteps: [Float], dimension: Int) -> Tensor {
    precondition(dimension % 2 == 0 && dimension > 0, "the embedding dimension must be even")
    let half = dimension / 2
    let frequencies = sinusoidalFrequencies(dimension: dimension)
    var values = [Float](repeating: 0, count: timesteps.count * dimension)
    for (row, t) in timesteps.enumerated() {
        for i in 0..<half {
            let angle = t * frequencies[i]
            values[row * dimension + i] = sinf(angle)
            values[row * dimension + half + i] = cosf(angle)
        }
    }
    return Tensor(shape: [timesteps.count, dimension], storage: values)
}

/// fᵢ = exp(−log(10000) · i / h), i = 0…h − 1, h = dimension / 2: the frequencies of the
/// sinusoidal embedding, shared by the table above and any embedding of a real-valued, recorded
/// time (a continuous-time DDPM's noise level). docs/math.md#timestep-embedding
public func sinusoidalFrequencies(dimension: Int) -> [Float] {
    let half = dimension / 2
    return (0..<half).map { Float(exp(-log(10000.0) * Double($0) / Double(half))) }
}

/// Sinusoidal embeddings computed once: a DDPM embeds one of few timesteps (at most 1001 for
/// the integer scaling, T + 1 for the real one) per row of every batch, so a table lookup
/// replaces a sine and a cosine per element. Rows equal ``sinusoidalTimestepEmbedding(_:dimension:)``
/// (or its real-valued form) exactly.
public struct SinusoidalEmbeddingTable: Sendable {
    public let dimension: Int
    /// The largest row index a lookup may ask for (rows 0…maximumTimestep).
    public let maximumTimestep: Int
    /// [maximumTimestep + 1, dimension], row-major.
    private let rows: [Float]

    /// Row t is e(t) for the integer timesteps t = 0…maximumTimestep.
    public init(maximumTimestep: Int, dimension: Int) {
        precondition(maximumTimestep >= 0, "the largest timestep must not be negative")
        self.dimension = dimension
        self.maximumTimestep = maximumTimestep
        rows = sinusoidalTimestepEmbedding(Array(0...maximumTimestep), dimension: dimension).storage
    }

    /// Row k is e(values[k]) for real-valued timesteps
    /// (``sinusoidalTimestepEmbedding(values:dimension:)``).
    public init(values: [Float], dimension: Int) {
        precondition(!values.isEmpty, "an embedding table needs at least one row")
        self.dimension = dimension
        self.maximumTimestep = values.count - 1
        rows = sinusoidalTimestepEmbedding(values: values, dimension: dimension).storage
    }

    /// Rows `timesteps` (each in 0…maximumTimestep) of the table: [timesteps.count, dimension].
    public func callAsFunction(_ timesteps: [Int]) -> Tensor {
        let width = dimension
        let values = [Float](unsafeUninitializedCapacity: timesteps.count * width) { buffer, initialized in
            rows.withUnsafeBufferPointer { table in
                for (row, t) in timesteps.enumerated() {
                    precondition(t >= 0 && t <= maximumTimestep, "timestep \(t) outside 0…\(maximumTimestep)")
                    (buffer.baseAddress! + row * width).initialize(from: table.baseAddress! + t * width, count: width)
                }
            }
            initialized = timesteps.count * width
        }
        return Tensor(shape: [timesteps.count, width], storage: values)
    }
}
