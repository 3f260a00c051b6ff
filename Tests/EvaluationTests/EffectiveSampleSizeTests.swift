import Evaluation
import XCTest

/// Kish's ESS = (Σw)²/Σw² from log weights: the cases with known answers, invariance to a common
/// shift, and the [K, n] layout shared with the IWAE functions.
final class EffectiveSampleSizeTests: XCTestCase {
    func testKnownCases() {
        XCTAssertEqual(effectiveSampleSize(logWeights: [Double](repeating: -3.2, count: 50)), 50, accuracy: 1e-12, "equal weights: K")
        XCTAssertEqual(effectiveSampleSize(logWeights: [0.7] + [Double](repeating: -.infinity, count: 9)), 1, "one weight carries all")
        XCTAssertEqual(effectiveSampleSize(logWeights: [0.7, 0.7] + [Double](repeating: -.infinity, count: 8)), 2, accuracy: 1e-12)
        // Weights 1, 2, 3, 4 (log space): (10)²/30 = 10/3, computed by hand.
        XCTAssertEqual(effectiveSampleSize(logWeights: [1.0, 2, 3, 4].map { log($0) }), 10.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(effectiveSampleSize(logWeights: [Double](repeating: -.infinity, count: 4)), 0, "no weight: 0")
    }

    /// A common shift of every log weight (the unknown log p(x)) changes nothing, even one that
    /// would overflow exp: the formula works relative to the largest log weight.
    func testCommonShift_changesNothing() {
        let logWeights = [-1.3, 0.2, -0.4, -2.5, 0.9]
        let base = effectiveSampleSize(logWeights: logWeights)
        for shift in [-2000.0, -1.0, 1000.0] {
            XCTAssertEqual(effectiveSampleSize(logWeights: logWeights.map { $0 + shift }), base, accuracy: 1e-12)
        }
    }

    /// The [K, n] layout: example i's weights are logWeights[k * n + i]; a transposed read would mix
    /// the examples (here: one example with equal weights, one with a single carrying weight).
    func testLayout_isKByExamples() {
        let k = 4
        var logWeights = [Double](repeating: 0, count: k * 2)
        for sample in 0..<k { logWeights[sample * 2 + 0] = -1; logWeights[sample * 2 + 1] = sample == 2 ? 5 : -.infinity }
        XCTAssertEqual(effectiveSampleSizes(logWeights: logWeights, exampleCount: 2), [4, 1])
    }

    /// numpy's default rule (linear interpolation between order statistics), pinned on values a
    /// reader can check by hand: np.percentile([1, 2, 3, 4], 10) = 1.3, the median of 4 values is 2.5.
    func testPercentile_interpolatesLinearlyAsNumpy() {
        XCTAssertEqual(percentile([4, 1, 3, 2], 0.1), 1.3, accuracy: 1e-12)
        XCTAssertEqual(percentile([4, 1, 3, 2], 0.5), 2.5, accuracy: 1e-12)
        XCTAssertEqual(percentile([7], 0.1), 7)
        XCTAssertEqual(percentile([1, 2, 3, 4], 0), 1)
        XCTAssertEqual(percentile([1, 2, 3, 4], 1), 4)
        XCTAssertTrue(percentile([], 0.5).isNaN)
    }
}
