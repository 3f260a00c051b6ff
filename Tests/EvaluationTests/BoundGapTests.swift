import Evaluation
import XCTest

/// The paired gap IWAE_{K_max} − ELBO.
final class BoundGapTests: XCTestCase {
    func testGap_isIWAEMinusELBOWithThePairedStandardError() {
        let elbo = [-3.0, -1.0, -2.5, -0.5]
        let iwae = [-2.5, -0.75, -2.0, -0.5]     // per-example gaps 0.5, 0.25, 0.5, 0
        let gap = boundGapEstimate(importanceWeightedBound: iwae, evidenceLowerBound: elbo)
        // By hand: mean 0.3125; deviations 0.1875, −0.0625, 0.1875, −0.3125;
        // Σ squares = 0.171875; variance 0.171875/3; s.e. √(variance/4).
        XCTAssertEqual(gap.mean, 0.3125, accuracy: 1e-15)
        XCTAssertEqual(gap.standardError, (0.171875 / 3 / 4).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(gap.count, 4)
        XCTAssertGreaterThan(gap.mean, 0, "the sign: IWAE above the ELBO is a positive gap")
    }
}
