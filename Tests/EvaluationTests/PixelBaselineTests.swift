import Core
import Evaluation
import XCTest

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The exact baselines against closed forms written out by hand (docs/math.md#exact-baselines):
/// p_d(l) = (c_{d,l} + α)/(N + αL) from the training counts, −D log L for the uniform baseline,
/// the Bernoulli of binary data; and every stored value checked before it is trusted.
final class PixelBaselineTests: XCTestCase {
    /// Discrete data with L = 3 on the reader's scale: level l is −1 + l.
    private func scaled(_ levels: [[Int]]) -> [Float] { levels.flatMap { $0.map { Float($0) - 1 } } }

    /// N = 4 training examples of D = 2, L = 3:
    ///   dimension 0 sees levels 0, 0, 1, 0 → counts [3, 1, 0];
    ///   dimension 1 sees levels 1, 2, 2, 2 → counts [0, 1, 3].
    private let train = [[0, 1], [0, 2], [1, 2], [0, 2]]

    func testPixel_countsTheTrainingSplitAndMatchesTheClosedForm() throws {
        let baseline = try PixelBaseline(kind: .pixel, likelihood: .discrete(levels: 3), dimension: 2, training: scaled(train))
        XCTAssertEqual(baseline.counts, [3, 1, 0, 0, 1, 3])
        XCTAssertEqual(baseline.trainingExamples, 4)
        XCTAssertEqual(baseline.smoothing, 1)
        XCTAssertEqual(baseline.parameterCount, 2 * (3 - 1))
        // Add-one: p_d(l) = (c + 1)/(4 + 3) = (c + 1)/7.
        //   x = (0, 2): (4/7)(4/7);  x = (2, 0): (1/7)(1/7), both levels unseen in training;  x = (1, 1): (2/7)(2/7).
        let logLikelihoods = try baseline.logLikelihoods(of: scaled([[0, 2], [2, 0], [1, 1]]), likelihood: .discrete(levels: 3))
        let expected = [2 * log(4.0 / 7), 2 * log(1.0 / 7), 2 * log(2.0 / 7)]
        XCTAssertEqual(logLikelihoods.count, 3)
        for (value, hand) in zip(logLikelihoods, expected) { XCTAssertEqual(value, hand, accuracy: 1e-13) }
        // The model is a distribution: the L^D = 9 probabilities sum to 1.
        var total = 0.0
        for a in 0..<3 { for b in 0..<3 { total += exp(try baseline.logLikelihoods(of: scaled([[a, b]]), likelihood: .discrete(levels: 3))[0]) } }
        XCTAssertEqual(total, 1, accuracy: 1e-14)
    }

    func testPixel_smoothingOtherThanOne() throws {
        let baseline = try PixelBaseline(kind: .pixel, likelihood: .discrete(levels: 3), dimension: 2, training: scaled(train), smoothing: 0.25)
        // p_d(l) = (c + 0.25)/(4 + 0.75): x = (0, 2) → (3.25/4.75)²; x = (2, 0) → (0.25/4.75)².
        let values = try baseline.logLikelihoods(of: scaled([[0, 2], [2, 0]]), likelihood: .discrete(levels: 3))
        XCTAssertEqual(values[0], 2 * log(3.25 / 4.75), accuracy: 1e-13)
        XCTAssertEqual(values[1], 2 * log(0.25 / 4.75), accuracy: 1e-13)
        XCTAssertEqual(baseline.summary, "per-pixel categorical, add-0.25 smoothing of the training counts")
        // A larger α pulls toward uniform: the unseen levels gain probability.
        let one = try PixelBaseline(kind: .pixel, likelihood: .discrete(levels: 3), dimension: 2, training: scaled(train))
        XCTAssertLessThan(values[1], try one.logLikelihoods(of: scaled([[2, 0]]), likelihood: .discrete(levels: 3))[0])
    }

    func testBinary_isTheIndependentBernoulliWithTheSameSmoothing() throws {
        // D = 3, N = 5 of 0/1: ones per dimension 4, 0, 2.
        let rows: [[Float]] = [[1, 0, 1], [1, 0, 0], [1, 0, 1], [0, 0, 0], [1, 0, 0]]
        let alpha = 0.5
        let baseline = try PixelBaseline(kind: .pixel, likelihood: .binary, dimension: 3, training: rows.flatMap { $0 }, smoothing: alpha)
        XCTAssertEqual(baseline.levels, 2)
        XCTAssertEqual(baseline.counts, [1, 4, 5, 0, 3, 2])
        XCTAssertEqual(baseline.kind.displayName(levels: 2), "per-pixel Bernoulli")
        let ones = [4.0, 0.0, 2.0]
        let test: [[Float]] = [[1, 1, 0], [0, 0, 1]]
        let values = try baseline.logLikelihoods(of: test.flatMap { $0 }, likelihood: .binary)
        for (i, x) in test.enumerated() {
            // Bernoulli: x log p + (1 − x) log(1 − p), p = (ones + α)/(N + 2α).
            var hand = 0.0
            for d in 0..<3 {
                let p = (ones[d] + alpha) / (5 + 2 * alpha)
                hand += Double(x[d]) * log(p) + (1 - Double(x[d])) * log(1 - p)
            }
            XCTAssertEqual(values[i], hand, accuracy: 1e-13)
        }
    }

    func testUniform_isMinusDLogL_withNoParameters() throws {
        let baseline = try PixelBaseline(kind: .uniform, likelihood: .discrete(levels: 3), dimension: 2, training: scaled(train))
        XCTAssertEqual(baseline.counts, [])
        XCTAssertEqual(baseline.smoothing, 0)
        XCTAssertEqual(baseline.parameterCount, 0)
        let values = try baseline.logLikelihoods(of: scaled([[0, 2], [2, 0], [1, 1]]), likelihood: .discrete(levels: 3))
        XCTAssertEqual(values, [Double](repeating: -2 * log(3.0), count: 3))
        let bits = try PixelBaseline(kind: .uniform, likelihood: .binary, dimension: 784, training: [Float](repeating: 1, count: 784))
        XCTAssertEqual(try bits.logLikelihoods(of: [Float](repeating: 0, count: 784), likelihood: .binary)[0], -784 * log(2.0))
    }

    /// The reader turns uint8 level v into Float(v)/Float(L − 1)·2 − 1; rounding recovers v for
    /// every level of every uint8 level count, and of 16-bit data.
    func testLevels_areRecoveredExactlyFromTheReadersScale() {
        for levels in [2, 3, 17, 255, 256, 65_536] {
            for v in 0..<levels {
                let stored = Float(v) / Float(levels - 1) * 2 - 1
                XCTAssertEqual(PixelBaseline.level(of: stored, likelihood: .discrete(levels: levels)), v, "level \(v) of \(levels)")
            }
        }
        XCTAssertNil(PixelBaseline.level(of: 0.5, likelihood: .binary))
        XCTAssertNil(PixelBaseline.level(of: .nan, likelihood: .discrete(levels: 17)))
        XCTAssertNil(PixelBaseline.level(of: 0.1, likelihood: .discrete(levels: 3)), "0.1 is no level of −1, 0, 1")
        XCTAssertNil(PixelBaseline.level(of: 1.4, likelihood: .discrete(levels: 3)), "beyond the last level")
    }

    func testFitting_refusesWhatHasNoExactBaseline() {
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message { try PixelBaseline(kind: .pixel, likelihood: .continuous, dimension: 2, training: [0, 1]) }.contains("continuous"))
        XCTAssertEqual(message { try PixelBaseline(kind: .pixel, likelihood: .discrete(levels: 3), dimension: 2, training: [-1, 0, 0.3, 1]) },
                       "value 0.3 at row 1, column 0 is not one of the 3 levels −1 + 2k/2 of discrete data")
        XCTAssertEqual(message { try PixelBaseline(kind: .pixel, likelihood: .binary, dimension: 2, training: [0, 1, 1, 0.5]) },
                       "value 0.5 at row 1, column 1 is not 0 or 1 (binary data)")
        XCTAssertTrue(message { try PixelBaseline(kind: .uniform, likelihood: .binary, dimension: 1, training: [0], smoothing: 1) }.contains("smoothing"))
        for alpha in [0.0, -1, .nan, .infinity, 2e9] {
            XCTAssertTrue(message { try PixelBaseline(kind: .pixel, likelihood: .binary, dimension: 1, training: [0], smoothing: alpha) }
                .contains("smoothing is"), "α = \(alpha)")
        }
        let baseline = try? PixelBaseline(kind: .pixel, likelihood: .binary, dimension: 2, training: [0, 1])
        XCTAssertTrue(message { try baseline!.logLikelihoods(of: [0, 1], likelihood: .discrete(levels: 3)) }.contains("3 levels"))
        XCTAssertTrue(message { try baseline!.logLikelihoods(of: [0, 1, 1], likelihood: .binary) }.contains("whole number"))
    }

    /// Stored counts are checked before any is used: sizes, range, and each dimension's total N.
    func testStoredValues_areCheckedBeforeUse() {
        func refusal(levels: Int = 2, dimension: Int = 2, smoothing: Double = 1, n: Int = 3, counts: [Int] = [1, 2, 3, 0],
                     kind: BaselineKind = .pixel) -> String? {
            do {
                _ = try PixelBaseline(kind: kind, levels: levels, dimension: dimension, smoothing: smoothing, trainingExamples: n, counts: counts)
                return nil
            } catch { return "\(error)" }
        }
        XCTAssertNil(refusal())
        XCTAssertEqual(refusal(counts: [1, 2, -1, 4]), "the count of level 0 in dimension 1 is -1; expected 0 to N = 3")
        XCTAssertEqual(refusal(counts: [1, 1, 3, 0]), "the counts of dimension 0 sum to 2, not to the N = 3 training examples")
        XCTAssertEqual(refusal(counts: [1, 2, 3]), "3 counts for D = 2 dimensions of L = 2 levels; expected D × L = 4")
        XCTAssertTrue(refusal(dimension: Int.max / 2 + 1, counts: [])!.contains("more than Int.max"))
        XCTAssertTrue(refusal(levels: 1 << 40)!.contains("levels is"))
        XCTAssertTrue(refusal(levels: 1)!.contains("levels is 1"))
        XCTAssertTrue(refusal(dimension: 0)!.contains("dimension is 0"))
        XCTAssertTrue(refusal(n: 0, counts: [0, 0, 0, 0])!.contains("training_examples is 0"))
        XCTAssertTrue(refusal(n: 1 << 25)!.contains("2^24"))
        XCTAssertTrue(refusal(smoothing: .nan)!.contains("smoothing is nan"))
        XCTAssertTrue(refusal(smoothing: 1, counts: [], kind: .uniform)!.contains("smoothing is 1"))
        XCTAssertTrue(refusal(smoothing: 0, kind: .uniform)!.contains("no counts"))
        XCTAssertNil(refusal(smoothing: 0, counts: [], kind: .uniform))
    }
}
