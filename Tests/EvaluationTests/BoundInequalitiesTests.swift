import Evaluation
import XCTest

/// The inequality checks as data: verdicts, the numbers tested, and when a check cannot apply.
final class BoundInequalitiesTests: XCTestCase {
    func evaluation(sampleCounts: [Int], elbo: [Double], iwae: [[Double]], logDensity: [Double]?) -> ModelEvaluation {
        ModelEvaluation(exampleCount: elbo.count, dataDimension: 2, sampleCounts: sampleCounts, elbo: elbo, reconstruction: elbo,
                        layerNames: [], layerKL: [], iwae: iwae, logDensity: logDensity)
    }

    func checks(_ e: ModelEvaluation, tolerance: Double = 3) -> [BoundInequality: BoundInequalityCheck] {
        let list = boundInequalityChecks(e, toleranceInStandardErrors: tolerance)
        XCTAssertEqual(list.map(\.inequality), BoundInequality.allCases, "one check per inequality, in order")
        XCTAssertTrue(list.allSatisfy { $0.toleranceInStandardErrors == tolerance })
        return Dictionary(uniqueKeysWithValues: list.map { ($0.inequality, $0) })
    }

    func testWellBehavedRun_passesEveryCheckOnTheRightNumbers() {
        let elbo = [-2.0, -1.0, -1.5, -2.5]
        let iwae = [[-2.02, -0.98, -1.49, -2.51], [-1.8, -0.9, -1.3, -2.2], [-1.7, -0.85, -1.2, -2.0]]
        let logQ = [-1.5, -0.7, -1.0, -1.8]
        let e = evaluation(sampleCounts: [1, 10, 100], elbo: elbo, iwae: iwae, logDensity: logQ)
        let c = checks(e)
        XCTAssertTrue(c.values.allSatisfy { $0.holds == true }, "\(c)")
        XCTAssertEqual(c[.gapNonNegative]!.tested, MeanEstimate(pairedDifferenceOf: iwae[2], minus: elbo))
        XCTAssertEqual(c[.jointAboveMarginal]!.tested, c[.gapNonNegative]!.tested, "KL_joint − KL_marginal is the gap")
        XCTAssertEqual(c[.jointNonNegative]!.tested, MeanEstimate(pairedDifferenceOf: logQ, minus: elbo))
        XCTAssertEqual(c[.marginalNonNegative]!.tested, MeanEstimate(pairedDifferenceOf: logQ, minus: iwae[2]))
        XCTAssertNil(c[.iwaeNonDecreasing]!.tested)
        XCTAssertEqual(c[.iwaeNonDecreasing]!.sampleCounts, [1, 10, 100])
        XCTAssertEqual(c[.iwaeOneMatchesELBO]!.tested, MeanEstimate(pairedDifferenceOf: iwae[0], minus: elbo))
    }

    func testNegativeGap_failsTheGapAndTheJointCheck() {
        let elbo = [-1.0, -1.1, -0.9, -1.05]
        let iwae = [[-1.5, -1.62, -1.41, -1.55]]    // 0.5 below, s.e. ≈ 0.01
        let c = checks(evaluation(sampleCounts: [4], elbo: elbo, iwae: iwae, logDensity: [0, 0, 0, 0]))
        XCTAssertEqual(c[.gapNonNegative]!.holds, false)
        XCTAssertEqual(c[.jointAboveMarginal]!.holds, false)
        XCTAssertEqual(c[.marginalNonNegative]!.holds, true)
        XCTAssertNil(c[.iwaeNonDecreasing]!.holds, "one K only")
        XCTAssertNil(c[.iwaeOneMatchesELBO]!.holds, "K = 1 not evaluated")
    }

    func testNegativeMarginalKL_fails() {
        let elbo = [-3.0, -3.1, -2.9]
        let c = checks(evaluation(sampleCounts: [1], elbo: elbo, iwae: [elbo], logDensity: [-4.0, -4.2, -3.9]))
        XCTAssertEqual(c[.marginalNonNegative]!.holds, false)
        XCTAssertEqual(c[.iwaeOneMatchesELBO]!.holds, true)
    }

    /// The ELBO's entropy ceiling: a mean ELBO 0.5 nats above log q(x0) (paired s.e. ≈ 0.006) fails
    /// KL_joint ≥ 0, and the check is one of the two whose failure is impossible for a correct
    /// estimator. The same run 0.5 nats *below* log q(x0) passes, and without a density it is n/a.
    func testELBOAboveEntropy_failsAndIsImpossible() {
        let logQ = [-1.5, -0.7, -1.0, -1.8, -1.2]
        let noise = [0.01, -0.01, 0.005, 0.0, -0.005]
        let above = zip(logQ, noise).map { $0 + 0.5 + $1 }
        let c = checks(evaluation(sampleCounts: [1, 10], elbo: above, iwae: [above, above.map { $0 + 0.1 }], logDensity: logQ))
        XCTAssertEqual(c[.jointNonNegative]!.holds, false)
        XCTAssertEqual(c[.jointNonNegative]!.tested!.mean, -0.5, accuracy: 1e-12)
        XCTAssertTrue(BoundInequality.jointNonNegative.isImpossibleWhenViolated)
        XCTAssertEqual(c[.gapNonNegative]!.holds, true, "the gap itself is fine: only the density is wrong")

        let below = zip(logQ, noise).map { $0 - 0.5 + $1 }
        let control = checks(evaluation(sampleCounts: [1, 10], elbo: below, iwae: [below, below.map { $0 + 0.1 }], logDensity: logQ))
        XCTAssertEqual(control[.jointNonNegative]!.holds, true)
        XCTAssertEqual(control[.marginalNonNegative]!.holds, true)
        XCTAssertNil(checks(evaluation(sampleCounts: [1], elbo: below, iwae: [below], logDensity: nil))[.jointNonNegative]!.holds)
    }

    func testDecreasingIWAE_reportsTheWorstStepInStandardErrors() {
        let elbo = [-2.0, -1.0, -1.5, -2.5]
        // Step 1→2 drops by 0.11 (about 19 s.e.); step 2→4 by only 0.05 but with almost no spread
        // (hundreds of s.e.): the worst is the step furthest below zero in standard errors, not in nats.
        let iwae1 = [-1.9, -0.9, -1.4, -2.4]
        let iwae2 = zip(iwae1, [0.1, 0.12, 0.1, 0.12]).map { $0 - $1 }
        let iwae4 = iwae2.enumerated().map { $1 - 0.05 - 0.0001 * Double($0) }
        let c = checks(evaluation(sampleCounts: [1, 2, 4], elbo: elbo, iwae: [iwae1, iwae2, iwae4], logDensity: nil))
        let check = c[.iwaeNonDecreasing]!
        XCTAssertEqual(check.holds, false)
        XCTAssertEqual(check.sampleCounts, [2, 4])
        XCTAssertEqual(check.tested, MeanEstimate(pairedDifferenceOf: iwae4, minus: iwae2))
        XCTAssertNil(c[.jointAboveMarginal]!.holds, "data density unknown")
        XCTAssertNil(c[.marginalNonNegative]!.holds)
    }

    func testIWAE1_mustMatchTheELBOOnBothSides() {
        let elbo = [-2.0, -1.0, -1.5, -2.5]
        let above = elbo.enumerated().map { $1 + 0.3 + 0.001 * Double($0) }
        let below = elbo.enumerated().map { $1 - 0.3 - 0.001 * Double($0) }
        XCTAssertEqual(checks(evaluation(sampleCounts: [1], elbo: elbo, iwae: [above], logDensity: nil))[.iwaeOneMatchesELBO]!.holds, false)
        XCTAssertEqual(checks(evaluation(sampleCounts: [1], elbo: elbo, iwae: [below], logDensity: nil))[.iwaeOneMatchesELBO]!.holds, false)
    }

    func testTolerance_isInStandardErrorsOfTheTestedMean() {
        // gap mean −0.02 with s.e. 0.01/√3 ≈ 0.0058 (3.46 s.e. below 0): holds at 4 s.e., fails at 3.
        let elbo = [0.0, 0.0, 0.0, 0.0]
        let iwae = [[-0.01, -0.03, -0.01, -0.03]]
        let gap = MeanEstimate(pairedDifferenceOf: iwae[0], minus: elbo)
        XCTAssertEqual(gap.mean, -0.02, accuracy: 1e-15)
        XCTAssertEqual(gap.standardError, 0.01 / 3.0.squareRoot(), accuracy: 1e-15)
        let e = evaluation(sampleCounts: [2], elbo: elbo, iwae: iwae, logDensity: nil)
        XCTAssertEqual(checks(e, tolerance: 4)[.gapNonNegative]!.holds, true)
        XCTAssertEqual(checks(e, tolerance: 3)[.gapNonNegative]!.holds, false)
    }
}
