import Core
import Foundation
import NN
import Tensor
import XCTest

final class DiscretizedGaussianTests: XCTestCase {
    static let means: [Double] = [-2.5, -1, -0.3, 0, 0.41, 1, 1.7]
    static let logScales: [Double] = [-8, -3, -0.5, 0, 1, 3]

    /// Φ(z) by erfc, in Double.
    static func cdf(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// P(x) = Φ((x + δ − μ)/σ) − Φ((x − δ − μ)/σ), the end bins open — written from the
    /// definition, independently of the library's tail-safe evaluation.
    static func probability(_ x: Double, mean: Double, logScale: Double, levels: Int) -> Double {
        let delta = 1 / Double(levels - 1)
        let sigma = exp(logScale)
        let upper = x + delta > 1 ? 1.0 : cdf((x + delta - mean) / sigma)
        let lower = x - delta < -1 ? 0.0 : cdf((x - delta - mean) / sigma)
        return upper - lower
    }

    static func grid(_ levels: Int) -> [Double] { (0..<levels).map { -1 + 2 * Double($0) / Double(levels - 1) } }

    func testDiscretizedGaussian_levelsAreTheGrid() {
        let d = DiscretizedGaussian(mean: Tensor(repeating: 0, shape: [1, 1]), logScale: Tensor(repeating: 0, shape: [1, 1]), levels: 5)
        XCTAssertEqual((0..<5).map(d.level), [-1, -0.5, 0, 0.5, 1])
        XCTAssertEqual(d.binHalfWidth, 0.25)
    }

    func testDiscretizedGaussian_probabilitiesSumToOneInDouble() {
        for levels in [2, 17, 256] {
            for mean in Self.means {
                for logScale in Self.logScales {
                    let total = Self.grid(levels).reduce(0.0) {
                        $0 + exp(DiscretizedGaussian.logProbabilityAndGradient($1, mean: mean, logScale: logScale, levels: levels).value)
                    }
                    XCTAssertEqual(total, 1, accuracy: 1e-9, "levels \(levels) mean \(mean) log σ \(logScale)")
                }
            }
        }
    }

    func testDiscretizedGaussian_probabilitiesSumToOneThroughTensors() {
        let pairs = Self.means.flatMap { m in Self.logScales.map { (Float(m), Float($0)) } }
        let mean = Tensor(shape: [1, pairs.count], storage: pairs.map(\.0))
        let logScale = Tensor(shape: [1, pairs.count], storage: pairs.map(\.1))
        for levels in [2, 17, 256] {
            let d = DiscretizedGaussian(mean: mean, logScale: logScale, levels: levels)
            var totals = [Double](repeating: 0, count: pairs.count)
            for k in 0..<levels {
                let logP = d.logProbabilityPerElement(Tensor(repeating: d.level(k), shape: [1, pairs.count])).storage
                XCTAssertTrue(logP.allSatisfy { !$0.isNaN && $0 <= 0 }, "levels \(levels) level \(k)")
                for i in 0..<pairs.count { totals[i] += exp(Double(logP[i])) }
            }
            for i in 0..<pairs.count {
                XCTAssertEqual(totals[i], 1, accuracy: 1e-6, "levels \(levels) mean \(pairs[i].0) log σ \(pairs[i].1)")
            }
        }
    }

    func testDiscretizedGaussian_matchesErfReferenceForModerateCases() {
        for levels in [2, 17, 256] {
            for mean in [-1.2, -0.5, 0, 0.3, 0.95] {
                for logScale in [-2.0, -1, 0, 0.5] {
                    for x in Self.grid(levels) {
                        let p = Self.probability(x, mean: mean, logScale: logScale, levels: levels)
                        // The reference subtracts two CDFs (absolute error ~1e-16 each): log P to 1e-15/P.
                        guard p > 1e-8 else { continue }
                        let value = DiscretizedGaussian.logProbabilityAndGradient(x, mean: mean, logScale: logScale, levels: levels).value
                        XCTAssertEqual(value, log(p), accuracy: 1e-10 + 1e-15 / p,
                                       "levels \(levels) x \(x) mean \(mean) log σ \(logScale)")
                    }
                }
            }
        }
        // The tensor path (Float in, Float out).
        var generator = RandomGenerator(seed: 60)
        let mean = uniform([4, 8], -1, 1, &generator), logScale = uniform([4, 8], -2, 0.5, &generator)
        let levels = 17
        let x = Tensor(shape: [4, 8], storage: (0..<32).map { _ in Float(Self.grid(levels)[generator.nextInt(below: levels)]) })
        let d = DiscretizedGaussian(mean: mean, logScale: logScale, levels: levels)
        let expected = (0..<32).map { log(Self.probability(Double(x.storage[$0]), mean: Double(mean.storage[$0]),
                                                           logScale: Double(logScale.storage[$0]), levels: levels)) }
        assertClose(d.logProbabilityPerElement(x).storage, expected, rtol: 1e-5, atol: 1e-5)
        let rows = (0..<4).map { r in (0..<8).reduce(0.0) { $0 + expected[r * 8 + $1] } }
        assertClose(d.logProbability(x).storage, rows, rtol: 1e-5, atol: 1e-4)
    }

    /// Mean 0, σ = e⁻⁸: the end levels ±1 are ~3000 σ away. log P ≈ log Φ(−z) ≈ −z²/2 − log(z√2π).
    func testDiscretizedGaussian_logProbabilitiesFiniteInTheFarTails() {
        let levels = 256
        let d = DiscretizedGaussian(mean: Tensor(repeating: 0, shape: [1, 4]), logScale: Tensor(repeating: -8, shape: [1, 4]), levels: levels)
        let x = Tensor(shape: [1, 4], storage: [-1, 1, -0.5, 0.8])
        let logP = d.logProbabilityPerElement(x).storage
        for (xi, value) in zip(x.storage, logP) {
            XCTAssertTrue(value.isFinite, "log P(\(xi)) = \(value)")
            XCTAssertLessThan(value, -1e5, "log P(\(xi))")
        }
        let z = (1 - 1 / Double(levels - 1)) / exp(-8.0)
        let asymptotic = -z * z / 2 - log(z * (2 * Double.pi).squareRoot())
        XCTAssertEqual(Double(logP[0]), asymptotic, accuracy: 1e-6 * Swift.abs(asymptotic))
        XCTAssertEqual(logP[0], logP[1], "symmetric")
        // The gradients are finite too, and point towards the data: ∂/∂μ log P(1) > 0.
        let mean = Tensor(parameterShape: [1, 4], storage: [0, 0, 0, 0])
        let logScale = Tensor(parameterShape: [1, 4], storage: [-8, -8, -8, -8])
        DiscretizedGaussian(mean: mean, logScale: logScale, levels: levels).logProbability(x).backward()
        XCTAssertTrue((mean.gradient ?? []).allSatisfy(\.isFinite))
        XCTAssertTrue((logScale.gradient ?? []).allSatisfy { $0.isFinite && $0 > 0 }, "widening helps far-away data")
        XCTAssertEqual(mean.gradient.map { $0[0] < 0 && $0[1] > 0 }, true)
    }

    /// The scalar gradients against Double central differences, including the far tails.
    func testDiscretizedGaussian_scalarGradientsMatchCentralDifferences() {
        for levels in [2, 17, 256] {
            for mean in [-1.5, -0.3, 0, 0.6, 1.2] {
                for logScale in [-8.0, -3, -1, 0, 2] {
                    for x in [-1.0, Self.grid(levels)[levels / 3], Self.grid(levels)[levels - 1 - levels / 4], 1] {
                        let r = DiscretizedGaussian.logProbabilityAndGradient(x, mean: mean, logScale: logScale, levels: levels)
                        func f(_ m: Double, _ s: Double) -> Double {
                            DiscretizedGaussian.logProbabilityAndGradient(x, mean: m, logScale: s, levels: levels).value
                        }
                        let hm = 1e-6 * exp(logScale), hs = 1e-6
                        let dMean = (f(mean + hm, logScale) - f(mean - hm, logScale)) / (2 * hm)
                        let dScale = (f(mean, logScale + hs) - f(mean, logScale - hs)) / (2 * hs)
                        let context = "levels \(levels) x \(x) mean \(mean) log σ \(logScale)"
                        XCTAssertEqual(r.mean, dMean, accuracy: 1e-5 * Swift.max(1, Swift.abs(dMean)), context)
                        XCTAssertEqual(r.logScale, dScale, accuracy: 1e-5 * Swift.max(1, Swift.abs(dScale)), context)
                    }
                }
            }
        }
    }

    func testDiscretizedGaussian_gradientsMatchFiniteDifferences() {
        var generator = RandomGenerator(seed: 61)
        for levels in [2, 17, 256] {
            let x = Tensor(shape: [2, 4], storage: (0..<8).map { _ in Float(Self.grid(levels)[generator.nextInt(below: levels)]) })
            let mean = uniform([2, 4], -1.2, 1.2, &generator)
            let logScale = uniform([2, 4], -1, 0.5, &generator)
            assertGradientsMatch([mean, logScale], "levels \(levels)") {
                DiscretizedGaussian(mean: $0[0], logScale: $0[1], levels: levels).logProbabilityPerElement(x)
            }
        }
    }

    func testDiscretizedGaussian_klIsNonNegativeAndZeroForIdentical() {
        var generator = RandomGenerator(seed: 62)
        for levels in [2, 17, 256] {
            let m1 = uniform([3, 4], -1.5, 1.5, &generator), s1 = uniform([3, 4], -4, 1, &generator)
            let m2 = uniform([3, 4], -1.5, 1.5, &generator), s2 = uniform([3, 4], -4, 1, &generator)
            let p = DiscretizedGaussian(mean: m1, logScale: s1, levels: levels)
            let q = DiscretizedGaussian(mean: m2, logScale: s2, levels: levels)
            let kl = p.kl(to: q)
            XCTAssertEqual(kl.shape, [3])
            XCTAssertTrue(kl.storage.allSatisfy { $0.isFinite && $0 > 0 }, "levels \(levels): \(kl.storage)")
            for value in p.kl(to: p).storage { XCTAssertEqual(value, 0, accuracy: 1e-6) }
            // Against the direct sum Σ P₁ log(P₁/P₂) in Double.
            for row in 0..<3 {
                var total = 0.0
                for j in 0..<4 {
                    let i = row * 4 + j
                    for x in Self.grid(levels) {
                        let a = DiscretizedGaussian.logProbabilityAndGradient(x, mean: Double(m1.storage[i]), logScale: Double(s1.storage[i]), levels: levels).value
                        let b = DiscretizedGaussian.logProbabilityAndGradient(x, mean: Double(m2.storage[i]), logScale: Double(s2.storage[i]), levels: levels).value
                        total += exp(a) * (a - b)
                    }
                }
                XCTAssertEqual(Double(kl.storage[row]), total, accuracy: 1e-4 * Swift.max(1, total), "levels \(levels) row \(row)")
            }
        }
    }

    func testDiscretizedGaussian_sampleStaysOnTheGrid() {
        var generator = RandomGenerator(seed: 63)
        let n = 20_000
        let d = DiscretizedGaussian(mean: Tensor(repeating: 0.2, shape: [n, 1]), logScale: Tensor(repeating: Float(log(0.3)), shape: [n, 1]), levels: 17)
        let x = d.sample(using: &generator)
        let grid = Set(Self.grid(17).map(Float.init))
        XCTAssertTrue(x.storage.allSatisfy(grid.contains))
        // Frequencies follow P(x) within 5 standard errors.
        for (k, level) in Self.grid(17).enumerated() {
            let p = Self.probability(level, mean: Double(Float(0.2)), logScale: Double(Float(log(0.3))), levels: 17)
            let frequency = Double(x.storage.filter { $0 == Float(level) }.count) / Double(n)
            XCTAssertLessThan(Swift.abs(frequency - p), 5 * (p * (1 - p) / Double(n)).squareRoot() + 1e-4, "level \(k)")
        }
    }
}

final class GaussianFormulasTests: XCTestCase {
    /// log Φ(z) to 25 digits (mpmath, 40-digit arithmetic).
    static let reference: [(Double, Double)] = [
        (-80, -3205.301121356890393511775), (-50, -1254.831361139419901254133), (-40, -804.6084420137537881666068),
        (-37.5, -707.6689893175071910661132), (-37, -689.0305855768905936008722), (-36.5, -670.6420000003137013708473),
        (-30, -454.3212439563431971073558), (-20, -203.9171553710972639368045), (-10, -53.23128515051247057834703),
        (-5, -15.0649983939887257360837), (-2, -3.783184333682031948835547), (-1, -1.841021645009263505770783),
        (-0.5, -1.175911761593618608879729), (0, -0.6931471805599453094172321), (0.5, -0.3689464152886563930656156),
        (1, -0.1727537790234498895264832), (2, -0.02301290932896348846533617), (5, -0.0000002866516129637635933845963),
        (8, -6.220960574271786058533518e-16), (10, -7.619853024160526070429306e-24),
    ]

    func testLogStandardCDF_matchesHighPrecisionReference() {
        for (z, expected) in Self.reference {
            XCTAssertEqual(GaussianFormulas.logStandardCDF(z), expected, accuracy: 1e-12 * Swift.abs(expected), "z = \(z)")
        }
        XCTAssertEqual(GaussianFormulas.logStandardCDF(.infinity), 0)
        XCTAssertEqual(GaussianFormulas.logStandardCDF(-.infinity), -.infinity)
    }

    func testLogStandardCDF_matchesErfcReference() {
        for i in -360...80 {
            let z = Double(i) / 10
            let reference = z < 0 ? log(0.5 * erfc(-z / 2.0.squareRoot())) : log1p(-0.5 * erfc(z / 2.0.squareRoot()))
            XCTAssertEqual(GaussianFormulas.logStandardCDF(z), reference, accuracy: 1e-12 * Swift.max(1e-300, Swift.abs(reference)), "z = \(z)")
        }
    }

    func testLogStandardCDF_monotoneAndFinite() {
        var previous = -Double.infinity
        for i in -20_000...2_000 {
            let z = Double(i) / 200  // [−100, 10]
            let value = GaussianFormulas.logStandardCDF(z)
            XCTAssertTrue(value.isFinite && value <= 0, "z = \(z): \(value)")
            XCTAssertGreaterThan(value, previous, "not increasing at z = \(z)")
            previous = value
        }
        XCTAssertTrue(GaussianFormulas.logStandardCDF(-1e5).isFinite)
    }

    /// The erfc branch (z > −37) and the asymptotic series (z ≤ −37) agree where they meet:
    /// the jump at −37 is no larger than the slope (≈ 37) times the step.
    func testLogStandardCDF_asymptoticBranchIsContinuousAtMinus37() {
        let at = GaussianFormulas.logStandardCDF(-37)
        let above = GaussianFormulas.logStandardCDF((-37.0).nextUp)
        XCTAssertEqual(above - at, 37 * ((-37.0).nextUp + 37), accuracy: 1e-10)
        for h in [1e-9, 1e-6, 1e-3] {
            let slope = (GaussianFormulas.logStandardCDF(-37 + h) - GaussianFormulas.logStandardCDF(-37 - h)) / (2 * h)
            // d/dz log Φ(z) = φ(z)/Φ(z) ≈ −z (1 + 1/z² …) ≈ 37.027.
            XCTAssertEqual(slope, 37.027, accuracy: 0.01 + 1e-9 / h, "h = \(h)")
        }
    }

    func testLogStandardIntervalProbability_matchesDifferenceOfCDFs() {
        let edges: [(Double, Double)] = [(-1, 1), (-3, -2), (2, 3), (0, 0.1), (-0.1, 0), (5, 6), (-6, -5), (-.infinity, 0), (0, .infinity), (-.infinity, .infinity)]
        for (a, b) in edges {
            let cdfA = a == -.infinity ? 0 : 0.5 * erfc(-a / 2.0.squareRoot())
            let cdfB = b == .infinity ? 1 : 0.5 * erfc(-b / 2.0.squareRoot())
            let expected = log(cdfB - cdfA)
            XCTAssertEqual(GaussianFormulas.logStandardIntervalProbability(lower: a, upper: b), expected, accuracy: 1e-9 * Swift.max(1, Swift.abs(expected)), "[\(a), \(b)]")
        }
        // Far tails: both edges 50 σ out on either side.
        let far = GaussianFormulas.logStandardIntervalProbability(lower: 50, upper: 51)
        XCTAssertEqual(far, GaussianFormulas.logStandardIntervalProbability(lower: -51, upper: -50), accuracy: 1e-9)
        // Φ(−51)/Φ(−50) ≈ e^{−50.5}, so the interval holds all of Φ(−50) to 10⁻²².
        XCTAssertEqual(far, -1254.831361139419901254133, accuracy: 1e-9)
    }

    func testGaussianFormulas_densityAndKLGradients() {
        // Central differences in Double of the scalar formulas.
        let h = 1e-6
        for (x, m, l) in [(0.3, -0.2, 0.4), (-2.0, 1.0, -1.5), (1.0, 1.0, 2.0)] {
            let g = GaussianFormulas.logDensityGradient(x, mean: m, logVariance: l)
            XCTAssertEqual(g.x, (GaussianFormulas.logDensity(x + h, mean: m, logVariance: l) - GaussianFormulas.logDensity(x - h, mean: m, logVariance: l)) / (2 * h), accuracy: 1e-6)
            XCTAssertEqual(g.mean, (GaussianFormulas.logDensity(x, mean: m + h, logVariance: l) - GaussianFormulas.logDensity(x, mean: m - h, logVariance: l)) / (2 * h), accuracy: 1e-6)
            XCTAssertEqual(g.logVariance, (GaussianFormulas.logDensity(x, mean: m, logVariance: l + h) - GaussianFormulas.logDensity(x, mean: m, logVariance: l - h)) / (2 * h), accuracy: 1e-6)
        }
        let (m1, l1, m2, l2) = (0.4, -0.7, -0.3, 0.9)
        let g = GaussianFormulas.klGradient(mean1: m1, logVariance1: l1, mean2: m2, logVariance2: l2)
        func kl(_ a: Double, _ b: Double, _ c: Double, _ d: Double) -> Double { GaussianFormulas.kl(mean1: a, logVariance1: b, mean2: c, logVariance2: d) }
        XCTAssertEqual(g.mean1, (kl(m1 + h, l1, m2, l2) - kl(m1 - h, l1, m2, l2)) / (2 * h), accuracy: 1e-6)
        XCTAssertEqual(g.logVariance1, (kl(m1, l1 + h, m2, l2) - kl(m1, l1 - h, m2, l2)) / (2 * h), accuracy: 1e-6)
        XCTAssertEqual(g.mean2, (kl(m1, l1, m2 + h, l2) - kl(m1, l1, m2 - h, l2)) / (2 * h), accuracy: 1e-6)
        XCTAssertEqual(g.logVariance2, (kl(m1, l1, m2, l2 + h) - kl(m1, l1, m2, l2 - h)) / (2 * h), accuracy: 1e-6)
    }
}
