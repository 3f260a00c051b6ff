import NN
import Tensor

/// e(s(t)) for a DDPM's timesteps: the sinusoidal embedding of the scaled timestep, looked up in
/// a table computed once. Shapes: `timesteps` [rows] (each in 1…T) → [rows, dimension].
/// docs/math.md#timestep-embedding
public struct DiffusionTimestepEmbedding: Sendable {
    public let scaling: TimestepScaling
    public let timestepCount: Int
    /// `.floor`: rows e(0)…e(1000), looked up at ⌊t · 1000 / T⌋ (the table every earlier run
    /// used); `.real`: rows e(s(0))…e(s(T)), looked up at t.
    private let table: SinusoidalEmbeddingTable

    public init(scaling: TimestepScaling, timestepCount: Int, dimension: Int) {
        self.scaling = scaling
        self.timestepCount = timestepCount
        switch scaling {
        case .floor:
            table = SinusoidalEmbeddingTable(maximumTimestep: 1000, dimension: dimension)
        case .real:
            table = SinusoidalEmbeddingTable(values: (0...timestepCount).map { scaling.scaledTimestep($0, timestepCount: timestepCount) },
                                             dimension: dimension)
        }
    }

    public init(configuration: DDPMConfiguration) {
        self.init(scaling: configuration.timestepScaling, timestepCount: configuration.timestepCount,
                  dimension: configuration.embeddingDimension)
    }

    public var dimension: Int { table.dimension }

    /// e(s(t)) for each of `timesteps`: [timesteps.count, dimension].
    public func callAsFunction(_ timesteps: [Int]) -> Tensor {
        switch scaling {
        case .floor: return table(timesteps.map { $0 * 1000 / timestepCount })
        case .real: return table(timesteps)
        }
    }
}
