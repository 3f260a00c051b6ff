import Core
import Foundation

/// `two-moons`: scikit-learn's interleaved half circles, centred and scaled by 2.
///
/// A moon m ∈ {0, 1} is drawn uniformly, then t = π u with u ~ U[0, 1):
/// outer moon (m = 0) p = (cos t, sin t), inner moon (m = 1) p = (1 − cos t, 0.5 − sin t);
/// with Gaussian noise ε (one Box–Muller pair),
///
///     x = 2 · (p − (0.5, 0.25) + 0.1 ε).
///
/// The density has no closed form here: no log-density is stored.
public struct TwoMoons: ToyDistribution {
    public var noise = 0.1
    public var scale = 2.0

    public init() {}

    public var dimension: Int { 2 }

    public func sample(using generator: inout RandomGenerator) -> [Double] {
        let moon = generator.nextInt(below: 2)
        let angle = Double.pi * generator.nextUniform()
        let point = moon == 0 ? [cos(angle), sin(angle)] : [1 - cos(angle), 0.5 - sin(angle)]
        let (first, second) = generator.nextNormalPair()
        return [scale * (point[0] - 0.5 + noise * first), scale * (point[1] - 0.25 + noise * second)]
    }

    public func logDensity(_ point: [Double]) -> Double? { nil }
    public var density: DensityDescription? { nil }
    public var settings: [String: Double] { ["noise": noise, "scale": scale] }
}
