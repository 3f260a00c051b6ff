import Evaluation
import XCTest

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The bounds on I(x; z) on a Gaussian channel, where the information is known in closed form:
/// x ~ N(0, s² I_d), z | x ~ N(x, v I_d) gives I(x; z) = (d/2) log(1 + s²/v), and the aggregate
/// posterior q(z) = N(0, (s² + v) I_d).
final class MutualInformationTests: XCTestCase {
    struct Channel {
        let means: [[Double]], variances: [[Double]], noise: [[Double]]
        let information: Double
    }

    func channel(signalVariance s2: Double, noiseVariance v: Double, dimension d: Int, count n: Int, seed: UInt64) -> Channel {
        var random = TestRandom(seed: seed)
        let x = random.normals(n, d).map { $0.map { s2.squareRoot() * $0 } }
        return Channel(means: x, variances: [[Double]](repeating: [Double](repeating: v, count: d), count: n),
                       noise: random.normals(n, d), information: Double(d) / 2 * log(1 + s2 / v))
    }

    func upperBound(_ c: Channel) -> MeanEstimate {
        MeanEstimate(zip(c.means, c.variances).map { gaussianKLToStandardNormal(mean: $0, variance: $1) })
    }

    func testGaussianKLToStandardNormal_matchesTheClosedForm() {
        // ½ Σ_d [v + μ² − 1 − log v].
        let expected = 0.5 * (0.5 + 1 - 1 - log(0.5)) + 0.5 * (2 - 1 - log(2.0))
        XCTAssertEqual(gaussianKLToStandardNormal(mean: [1, 0], variance: [0.5, 2]), expected, accuracy: 1e-15)
        XCTAssertEqual(gaussianKLToStandardNormal(mean: [0, 0], variance: [1, 1]), 0)
    }

    func testInfoNCE_isBelowLogNAndTheTrueInformation() {
        let c = channel(signalVariance: 1, noiseVariance: 0.25, dimension: 2, count: 2000, seed: 1)   // I = log 5
        let terms = informationLowerBoundTerms(means: c.means, variances: c.variances, noise: c.noise)
        let logN = log(2000.0)
        // Each term is ≤ log n exactly: the sum over j includes j = i.
        XCTAssertTrue(terms.allSatisfy { $0 <= logN + 1e-12 })
        let lower = MeanEstimate(terms)
        XCTAssertLessThanOrEqual(lower.mean, c.information + 3 * lower.standardError, "lower \(lower) vs I = \(c.information)")
        XCTAssertGreaterThan(lower.mean, c.information - 0.3, "with n ≫ e^I the bound is nearly tight: \(lower)")
    }

    func testInfoNCE_saturatesAtLogNWhenTheInformationExceedsIt() {
        let c = channel(signalVariance: 100, noiseVariance: 0.01, dimension: 2, count: 200, seed: 4)   // I = log 10001 ≈ 9.2
        let lower = MeanEstimate(informationLowerBoundTerms(means: c.means, variances: c.variances, noise: c.noise))
        XCTAssertLessThanOrEqual(lower.mean, log(200.0))
        XCTAssertGreaterThan(lower.mean, log(200.0) - 0.1)
        XCTAssertLessThan(lower.mean, c.information)
    }

    func testKLToStandardNormal_isAnUpperBoundAboveTheInformationByTheAggregateKL() {
        let (s2, v) = (1.0, 0.25)
        let c = channel(signalVariance: s2, noiseVariance: v, dimension: 2, count: 4000, seed: 2)
        let upper = upperBound(c)
        // E[KL(q(z|x) ‖ N(0, I))] = (d/2)(v + s² − 1 − log v) = I + KL(N(0, (s² + v) I) ‖ N(0, I)).
        let expected = 0.5 * 2 * (v + s2 - 1 - log(v))
        let aggregateKL = 0.5 * 2 * (s2 + v - 1 - log(s2 + v))
        XCTAssertEqual(expected, c.information + aggregateKL, accuracy: 1e-14)
        XCTAssertEqual(upper.mean, expected, accuracy: 3 * upper.standardError)
        XCTAssertGreaterThanOrEqual(upper.mean, c.information - 3 * upper.standardError)
    }

    func testKLToStandardNormal_equalsTheInformationWhenThePriorIsTheAggregatePosterior() {
        // s² + v = 1: q(z) = N(0, I), so E_x KL(q(z|x) ‖ N(0, I)) = I exactly in expectation.
        let c = channel(signalVariance: 0.75, noiseVariance: 0.25, dimension: 3, count: 4000, seed: 3)
        let upper = upperBound(c)
        XCTAssertEqual(upper.mean, c.information, accuracy: 3 * upper.standardError, "upper \(upper) vs I = \(c.information)")
        let lower = MeanEstimate(informationLowerBoundTerms(means: Array(c.means.prefix(1000)), variances: Array(c.variances.prefix(1000)),
                                                            noise: Array(c.noise.prefix(1000))))
        XCTAssertLessThanOrEqual(lower.mean, upper.mean + 3 * (lower.standardError + upper.standardError), "lower ≤ upper")
    }

    func testDiffusionProfile_isTheChannelAtEachStep() {
        // x0 ~ N(0, I_2) and q(x_t | x0) = N(√ᾱ x0, (1 − ᾱ) I): the Gaussian channel with s² = ᾱ,
        // v = 1 − ᾱ, so I(x0; x_t) = −(d/2) log(1 − ᾱ_t) and, s² + v = 1, the upper bound is tight.
        var random = TestRandom(seed: 8)
        let n = 1500, d = 2
        let data = random.normals(n, d)
        let alphasCumprod = [0.9, 0.5, 0.1]
        var noises: [Int: [[Double]]] = [:]
        for t in 1...3 { noises[t] = random.normals(n, d) }
        let profile = diffusionInformationProfile(label: "test", data: data, alphasCumprod: alphasCumprod, steps: [1, 2, 3],
                                                  noise: { noises[$0]! })
        XCTAssertEqual(profile.steps, [1, 2, 3])
        for (index, a) in alphasCumprod.enumerated() {
            let information = -Double(d) / 2 * log(1 - a)
            let (lower, upper) = (profile.lower[index], profile.upper[index])
            XCTAssertEqual(upper.mean, information, accuracy: 3 * upper.standardError, "t = \(index + 1): upper \(upper) vs I = \(information)")
            XCTAssertLessThanOrEqual(lower.mean, information + 3 * lower.standardError, "t = \(index + 1): lower \(lower)")
            XCTAssertLessThanOrEqual(lower.mean, log(Double(n)))
            // The profile is the channel's bounds with means √ᾱ x0 and variances 1 − ᾱ, on the same noise.
            let direct = informationLowerBoundTerms(means: data.map { $0.map { a.squareRoot() * $0 } },
                                                    variances: data.map { $0.map { _ in 1 - a } }, noise: noises[index + 1]!)
            XCTAssertEqual(lower, MeanEstimate(direct))
        }
    }
}
