import Evaluation
import XCTest

/// H, KL_joint, KL_marginal and the identity KL_joint − KL_marginal = gap.
final class KnownDensityKLTests: XCTestCase {
    let logDensity = [-1.0, -2.0, -1.5, -0.5, -3.0]
    let elbo = [-1.75, -2.5, -2.25, -1.0, -3.5]
    let iwae = [-1.25, -2.125, -1.75, -0.625, -3.25]

    func testEachKL_isThePairedMeanOfItsFormula() {
        let kl = KnownDensityKL(logDensity: logDensity, evidenceLowerBound: elbo, importanceWeightedBound: iwae)
        XCTAssertEqual(kl.entropy.mean, 8.0 / 5, accuracy: 1e-15, "H = −mean log q")
        XCTAssertEqual(kl.joint.mean, (0.75 + 0.5 + 0.75 + 0.5 + 0.5) / 5, accuracy: 1e-15, "KL_joint = mean(log q − ELBO)")
        XCTAssertEqual(kl.marginal.mean, (0.25 + 0.125 + 0.25 + 0.125 + 0.25) / 5, accuracy: 1e-15, "KL_marginal = mean(log q − IWAE)")
        XCTAssertEqual(kl.joint, MeanEstimate(pairedDifferenceOf: logDensity, minus: elbo))
        XCTAssertEqual(kl.marginal, MeanEstimate(pairedDifferenceOf: logDensity, minus: iwae))
        XCTAssertGreaterThan(kl.joint.mean, kl.marginal.mean)
    }

    func testJointMinusMarginal_isTheGap() {
        var random = TestRandom(seed: 9)
        let n = 200
        let logQ = (0..<n).map { _ in random.nextNormal() - 2 }
        let lower = logQ.map { $0 - 1 + 0.3 * random.nextNormal() }
        let upper = lower.map { $0 + 0.2 + 0.05 * random.nextNormal() }
        let kl = KnownDensityKL(logDensity: logQ, evidenceLowerBound: lower, importanceWeightedBound: upper)
        let gap = boundGapEstimate(importanceWeightedBound: upper, evidenceLowerBound: lower)
        // The per-example identity (log q − ELBO) − (log q − IWAE) = IWAE − ELBO holds exactly; the
        // means differ only by rounding, and the reported difference is the gap itself, bit for bit.
        XCTAssertEqual(kl.joint.mean - kl.marginal.mean, gap.mean, accuracy: 1e-13)
        XCTAssertEqual(kl.jointMinusMarginal, gap)
        XCTAssertLessThan(gap.standardError, kl.joint.standardError, "paired: the gap's s.e. is not the KLs' combined")
    }
}
