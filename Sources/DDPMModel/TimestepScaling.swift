import NN
import Tensor

/// How a DDPM's timestep t ∈ 1…T is put on the embedding's 0…1000 scale, s(t) = t · 1000 / T,
/// so that the embedding's frequencies mean the same for every T (improved-diffusion's
/// `rescale_timesteps`). docs/math.md#timestep-embedding
///
/// Stored in the configuration JSON under `timestepScaling`; configurations written before the
/// key existed decode as `.floor`, the formula they were trained with.
public enum TimestepScaling: String, Codable, Sendable, CaseIterable {
    /// s(t) = ⌊t · 1000 / T⌋, an integer: injective in t only for T ≤ 1000 (the step 1000/T is
    /// then ≥ 1); for T = 2000, t = 2 and t = 3 share s = 1. Every run before the choice existed.
    case floor
    /// s(t) = t · 1000 / T as a real number (rounded to Float32): injective for every T.
    case real

    /// What a new configuration uses: `.floor` for T ≤ 1000 (where it is injective, so those
    /// runs keep their bits), `.real` above.
    public static func standard(timestepCount: Int) -> TimestepScaling { timestepCount <= 1000 ? .floor : .real }

    /// s(t) for t ∈ 0…T.
    public func scaledTimestep(_ t: Int, timestepCount: Int) -> Float {
        switch self {
        case .floor: return Float(t * 1000 / timestepCount)
        case .real: return Float(Double(t) * 1000 / Double(timestepCount))
        }
    }
}
