import Core
import Foundation

/// `swiss-roll`: the 2-D swiss roll (a spiral) with Gaussian noise.
///
/// t = 1.5π (1 + 2u) with u ~ U[0, 1), ε a Box–Muller pair, and
///
///     x = (t cos t, t sin t) / 5 + 0.1 ε,
///
/// so x lies roughly in [−2.8, 2.8]². The density has no closed form here: no
/// log-density is stored.
public struct SwissRoll: ToyDistribution {
    public var noise = 0.1
    public var scale = 0.2

    public init() {}

    public var dimension: Int { 2 }

    public func sample(using generator: inout RandomGenerator) -> [Double] {
        let t = 1.5 * Double.pi * (1 + 2 * generator.nextUniform())
        let (first, second) = generator.nextNormalPair()
        return [scale * t * cos(t) + noise * first, scale * t * sin(t) + noise * second]
    }

    public func logDensity(_ point: [Double]) -> Double? { nil }
    public var density: DensityDescription? { nil }
    public var settings: [String: Double] { ["noise": noise, "scale": scale] }
}
