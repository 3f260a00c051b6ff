import Evaluation
import XCTest

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// MeanEstimate and logMeanExp against hand computations.
final class StatisticsTests: XCTestCase {
    func testMeanEstimate_matchesTheHandComputation() {
        // mean 2.5; unbiased variance Σ(x − 2.5)²/3 = 5/3; s.e. √(5/3 / 4).
        let estimate = MeanEstimate([1, 2, 3, 4])
        XCTAssertEqual(estimate.mean, 2.5)
        XCTAssertEqual(estimate.standardError, (5.0 / 12).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(estimate.count, 4)
        XCTAssertTrue(MeanEstimate([7]).standardError.isNaN, "one value has no spread")
    }

    func testMeanEstimate_isAccurateAtLargeOffsets() {
        // Two-pass: a one-pass Σx² − n·mean² would lose every digit of a spread of 1 at 1e9.
        let estimate = MeanEstimate([1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4])
        XCTAssertEqual(estimate.standardError, (5.0 / 12).squareRoot(), accuracy: 1e-9)
    }

    func testPairedDifference_standardErrorIsThatOfTheDifferences() {
        let a = [10.0, 20.0, 30.0, 40.0, 50.0]
        let b = [9.0, 19.5, 29.0, 39.5, 48.0]   // differences 1, 0.5, 1, 0.5, 2
        let paired = MeanEstimate(pairedDifferenceOf: a, minus: b)
        let differences = [1.0, 0.5, 1.0, 0.5, 2.0]
        let mean = differences.reduce(0, +) / 5
        let variance = differences.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
        XCTAssertEqual(paired.mean, mean, accuracy: 1e-15)
        XCTAssertEqual(paired.standardError, (variance / 5).squareRoot(), accuracy: 1e-15)
        // The shared example-to-example spread cancels: far below the two s.e. combined.
        let unpaired = (pow(MeanEstimate(a).standardError, 2) + pow(MeanEstimate(b).standardError, 2)).squareRoot()
        XCTAssertLessThan(paired.standardError, unpaired / 10)
    }

    func testScaledAndNonNegative() {
        let estimate = MeanEstimate(mean: -0.2, standardError: 0.1, count: 9)
        XCTAssertEqual(estimate.scaled(by: -2), MeanEstimate(mean: 0.4, standardError: 0.2, count: 9))
        XCTAssertTrue(estimate.isNonNegative(withinStandardErrors: 3))
        XCTAssertFalse(estimate.isNonNegative(withinStandardErrors: 1))
        XCTAssertFalse(MeanEstimate(mean: -1e-9, standardError: .nan, count: 1).isNonNegative(), "no s.e.: no slack")
    }

    func testLogMeanExp_matchesTheDirectFormulaOnModerateValues() {
        let values = [-1.5, 0.25, 2.0, -0.75, 1.0]
        let direct = log(values.map(exp).reduce(0, +) / 5)
        XCTAssertEqual(logMeanExp(values), direct, accuracy: 1e-14)
    }

    func testLogMeanExp_isStableAtExtremeScales() {
        // exp(1e300) and exp(−1e4) overflow and underflow; subtracting the maximum keeps them exact.
        XCTAssertEqual(logMeanExp([1e300, 1e300]), 1e300)
        XCTAssertEqual(logMeanExp([-1e4, -1e4]), -1e4)
        XCTAssertEqual(logMeanExp([-1e4, -1e4 + log(3.0)]), -1e4 + log(2.0), accuracy: 1e-11)
        // One weight dominating: log((e^0 + e^−1000)/2) = −log 2 (the small one underflows harmlessly).
        XCTAssertEqual(logMeanExp([0, -1000]), -log(2.0), accuracy: 1e-15)
        XCTAssertEqual(logMeanExp([-Double.infinity, 0]), -log(2.0), accuracy: 1e-15, "a zero weight counts in the mean")
    }

    func testLogMeanExp_edgeCases() {
        XCTAssertEqual(logMeanExp([Double]()), -.infinity)
        XCTAssertEqual(logMeanExp([-Double.infinity, -.infinity]), -.infinity)
        XCTAssertEqual(logMeanExp([1, .infinity]), .infinity)
        XCTAssertEqual(logMeanExp([0.7]), 0.7)
        XCTAssertEqual(logMeanExp([3.0, 1, 2][0..<2]), logMeanExp([3.0, 1]), "slices and arrays agree")
    }
}
