import Evaluation
import Report
import XCTest

final class NumberFormattingTests: XCTestCase {
    func testFormatEstimate_twoSignificantDigitsOfStandardError() {
        XCTAssertEqual(formatEstimate(mean: -2.34512, standardError: 0.01234), "-2.345 ± 0.012")
        XCTAssertEqual(formatEstimate(mean: 0.192, standardError: 0.0037417), "0.1920 ± 0.0037")
        XCTAssertEqual(formatEstimate(mean: 3.14159, standardError: 0.25), "3.14 ± 0.25")
        XCTAssertEqual(formatEstimate(mean: 12.5, standardError: 1.5), "12.5 ± 1.5")
    }

    func testFormatEstimate_roundingCarryKeepsTwoDigits() {
        // 0.0996 rounds to 0.10 (two significant digits), not 0.100.
        XCTAssertEqual(formatEstimate(mean: 1.23456, standardError: 0.0996), "1.23 ± 0.10")
        XCTAssertEqual(formatEstimate(mean: 7.0, standardError: 9.97), "7 ± 10")
    }

    func testFormatEstimate_largeStandardErrorRoundsToTens() {
        XCTAssertEqual(formatEstimate(mean: -1234.5, standardError: 123.4), "-1230 ± 120")
    }

    /// A standard error of 10⁵ or more switches to scientific notation (the HVAE's sandwich on its
    /// own outlying samples gave -1,040,000,000 ± 470,000,000 in fixed notation).
    func testFormatEstimate_hugeStandardErrorIsScientific() {
        XCTAssertEqual(formatEstimate(mean: -1.04e9, standardError: 4.7e8), "-1.04e9 ± 4.7e8")
        XCTAssertEqual(formatEstimate(mean: 123456, standardError: 99999), "120000 ± 100000", "below 10⁵: fixed, rounded to the s.e.")
        XCTAssertEqual(formatEstimate(mean: 2.5e6, standardError: 1.2e5), "2.50e6 ± 1.2e5")
    }

    func testFormatEstimate_usesASCIIMinusAndNoNegativeZero() {
        XCTAssertEqual(formatEstimate(mean: -0.0001, standardError: 0.01), "0.000 ± 0.010")
        XCTAssertFalse(formatEstimate(mean: -5, standardError: 0.5).contains("\u{2212}"))
        XCTAssertTrue(formatEstimate(mean: -5, standardError: 0.5).hasPrefix("-"))
    }

    func testFormatEstimate_zeroOrUndefinedStandardError() {
        XCTAssertEqual(formatEstimate(mean: -2.34512, standardError: 0), "-2.345 ± 0")
        XCTAssertEqual(formatEstimate(mean: -2.34512, standardError: .nan), "-2.345 ± n/a")
        XCTAssertEqual(formatEstimate(MeanEstimate([4.0])), "4.000 ± n/a")
        XCTAssertEqual(formatEstimate(mean: .nan, standardError: 1), "nan")
        // A constant paired difference has a standard error of rounding noise: shown as 0.
        XCTAssertEqual(formatEstimate(mean: 0.3000000000000016, standardError: 1.7e-15), "0.3000 ± 0")
        XCTAssertEqual(formatEstimate(MeanEstimate(pairedDifferenceOf: [-33.2, -31.8], minus: [-33.5, -32.1])), "0.3000 ± 0")
    }

    func testFormatEstimate_matchesMeanEstimate() {
        // mean 2, sample variance 1, n = 3: s.e. = √(1/3) = 0.57735.
        XCTAssertEqual(formatEstimate(MeanEstimate([1, 2, 3])), "2.00 ± 0.58")
    }

    func testFormatCount_groupsThousands() {
        XCTAssertEqual(formatCount(0), "0")
        XCTAssertEqual(formatCount(999), "999")
        XCTAssertEqual(formatCount(1000), "1,000")
        XCTAssertEqual(formatCount(1_234_567), "1,234,567")
        XCTAssertEqual(formatCount(-17_794), "-17,794")
    }

    func testFormatDuration_humanUnits() {
        XCTAssertEqual(formatDuration(3.2), "3.20 s")
        XCTAssertEqual(formatDuration(12.34), "12.3 s")
        XCTAssertEqual(formatDuration(75.4), "1 min 15 s")
        XCTAssertEqual(formatDuration(3723), "1 h 02 min")
        XCTAssertEqual(formatDuration(.nan), "n/a")
    }

    func testPlotAxis_niceTicks() {
        let axis = PlotAxis(covering: [0.13, 0.87])
        XCTAssertEqual(axis.lower, 0.0, accuracy: 1e-12)
        XCTAssertEqual(axis.upper, 1.0, accuracy: 1e-12)
        XCTAssertEqual(axis.ticks.count, 6)
        XCTAssertEqual(axis.ticks.map(axis.tickLabel), ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        let log = PlotAxis(covering: [0.003, 42], scale: .logarithmic)
        XCTAssertEqual(log.lower, 0.001, accuracy: 1e-15)
        XCTAssertEqual(log.upper, 100, accuracy: 1e-9)
        XCTAssertEqual(log.ticks.map(log.tickLabel), ["0.001", "0.01", "0.1", "1", "10", "100"])
        XCTAssertEqual(log.fraction(1), 0.6, accuracy: 1e-12)
        XCTAssertTrue(PlotAxis.spansDecades([0.01, 5]))
        XCTAssertFalse(PlotAxis.spansDecades([-1, 500]))
    }

    func testMarkdownTable_escapesPipes() {
        var table = MarkdownTable(headers: ["a", "b"], alignments: [.left, .right])
        table.append(["x|y", "1"])
        XCTAssertEqual(table.text, "| a | b |\n|---|---:|\n| x\\|y | 1 |\n")
    }
}
