#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// How β_t grows with t.
public enum NoiseSchedule: String, Codable, Sendable, CaseIterable {
    /// Ho et al. (2020): β linear from 1e-4 to 0.02 at T = 1000; for other T both ends are
    /// scaled by 1000/T as in improved-diffusion, so the total noise stays comparable.
    case linear
    /// Nichol & Dhariwal (2021): ᾱ(t) = f(t)/f(0), f(t) = cos²(((t/T) + s)/(1 + s) · π/2), s = 0.008,
    /// β_t = min(1 − ᾱ_t/ᾱ_{t−1}, 0.999).
    case cosine

    /// β_1 … β_T.
    public func betas(timestepCount: Int) -> [Double] {
        switch self {
        case .linear:
            let scale = 1000 / Double(timestepCount)
            let start = scale * 1e-4, end = scale * 0.02
            if timestepCount == 1 { return [Swift.min(start, 0.999)] }
            return (0..<timestepCount).map { i in
                Swift.min(start + (end - start) * Double(i) / Double(timestepCount - 1), 0.999)
            }
        case .cosine:
            let s = 0.008
            func f(_ t: Double) -> Double {
                let angle = ((t / Double(timestepCount)) + s) / (1 + s) * Double.pi / 2
                return cos(angle) * cos(angle)
            }
            return (1...timestepCount).map { t in Swift.min(1 - f(Double(t)) / f(Double(t - 1)), 0.999) }
        }
    }
}
