import Foundation
import Tensor
import XCTest

/// `upsampledNearest(factor:)` and `averagePooled(factor:)` against nested loops in Double,
/// finite differences, and themselves on 1, 2 and 3 threads.
///
/// Tolerances. Upsampling copies: exactly the input's values. Pooling sums f² Floats in
/// order and multiplies by the Float 1/f²: within γ_{f²+1} · Σ|x|/f² + u·|y| of the mean
/// (Higham, §3.1; the rounding of 1/f² is the extra u). Its gradient dy/f² is one product:
/// within u of the exact quotient. A pixel read from the wrong block is off by a whole value.
final class ResamplingTests: XCTestCase {
    static let shapes: [[Int]] = [[1, 1, 1, 1], [2, 3, 4, 5], [1, 4, 2, 1], [3, 2, 6, 3]]

    // MARK: - Upsampling

    func testUpsampling_copiesEveryPixelIntoItsBlock() {
        var data = TestData(seed: 1400)
        for shape in Self.shapes {
            let x = data.uniform(shape)
            for factor in [1, 2, 3] {
                let y = x.upsampledNearest(factor: factor)
                let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
                XCTAssertEqual(y.shape, [n, h * factor, w * factor, c])
                var expected: [Float] = []
                for b in 0..<n {
                    for i in 0..<(h * factor) {
                        for j in 0..<(w * factor) {
                            for channel in 0..<c { expected.append(x.storage[((b * h + i / factor) * w + j / factor) * c + channel]) }
                        }
                    }
                }
                assertIdenticalBits(y.storage, expected, "\(shape), factor \(factor)")
            }
        }
    }

    /// dx = Σ over each pixel's block of dy: a sum of f² Floats, against Double.
    func testUpsampling_gradientIsTheSumOverEachBlock() {
        var data = TestData(seed: 1401)
        for shape in Self.shapes {
            for factor in [1, 2, 3] {
                let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
                let seed = data.normal([n, h * factor, w * factor, c]).storage
                let result = evaluateGradients([data.uniform(shape)], seed: seed) { $0[0].upsampledNearest(factor: factor) }
                var expected = [Double](repeating: 0, count: n * h * w * c), magnitudes = expected
                for b in 0..<n {
                    for i in 0..<(h * factor) {
                        for j in 0..<(w * factor) {
                            for channel in 0..<c {
                                let target = ((b * h + i / factor) * w + j / factor) * c + channel
                                let d = Double(seed[((b * h * factor + i) * w * factor + j) * c + channel])
                                expected[target] += d
                                magnitudes[target] += Swift.abs(d)
                            }
                        }
                    }
                }
                let gamma = MatrixProductTests.gamma(factor * factor)
                for (index, value) in result.gradients[0].enumerated() {
                    XCTAssertLessThanOrEqual(Swift.abs(Double(value) - expected[index]), gamma * magnitudes[index], "\(shape), factor \(factor)")
                }
            }
        }
    }

    func testUpsampling_gradientMatchesFiniteDifferences() {
        var data = TestData(seed: 1402)
        for (shape, factor) in [([2, 2, 3, 2], 2), ([1, 3, 2, 1], 3), ([1, 2, 2, 3], 1)] {
            assertGradientsMatch([data.uniform(shape)], "\(shape), factor \(factor)") { $0[0].upsampledNearest(factor: factor) }
        }
    }

    // MARK: - Pooling

    func testPooling_averagesEveryBlock() {
        var data = TestData(seed: 1403)
        for shape in Self.shapes {
            for factor in [1, 2, 3] {
                let (n, h, w, c) = (shape[0], shape[1] * factor, shape[2] * factor, shape[3])
                let x = data.uniform([n, h, w, c])
                let y = x.averagePooled(factor: factor)
                XCTAssertEqual(y.shape, shape)
                let gamma = MatrixProductTests.gamma(factor * factor + 1)
                for b in 0..<n {
                    for i in 0..<shape[1] {
                        for j in 0..<shape[2] {
                            for channel in 0..<c {
                                var total = 0.0, magnitude = 0.0
                                for a in 0..<factor {
                                    for d in 0..<factor {
                                        let value = Double(x.storage[((b * h + i * factor + a) * w + j * factor + d) * c + channel])
                                        total += value
                                        magnitude += Swift.abs(value)
                                    }
                                }
                                let exact = total / Double(factor * factor)
                                let actual = Double(y.storage[((b * shape[1] + i) * shape[2] + j) * c + channel])
                                let bound = gamma * magnitude / Double(factor * factor) + 0x1p-24 * Swift.abs(exact)
                                XCTAssertLessThanOrEqual(Swift.abs(actual - exact), bound, "\(shape), factor \(factor)")
                            }
                        }
                    }
                }
            }
        }
    }

    func testPooling_gradientSpreadsEachOutputOverItsBlock() {
        var data = TestData(seed: 1404)
        for shape in Self.shapes {
            for factor in [1, 2, 3] {
                let (n, h, w, c) = (shape[0], shape[1] * factor, shape[2] * factor, shape[3])
                let seed = data.normal(shape).storage
                let result = evaluateGradients([data.uniform([n, h, w, c])], seed: seed) { $0[0].averagePooled(factor: factor) }
                for b in 0..<n {
                    for i in 0..<h {
                        for j in 0..<w {
                            for channel in 0..<c {
                                let d = Double(seed[((b * shape[1] + i / factor) * shape[2] + j / factor) * c + channel])
                                let exact = d / Double(factor * factor)
                                let actual = Double(result.gradients[0][((b * h + i) * w + j) * c + channel])
                                XCTAssertLessThanOrEqual(Swift.abs(actual - exact), 0x1p-23 * Swift.abs(exact), "\(shape), factor \(factor)")
                            }
                        }
                    }
                }
            }
        }
    }

    func testPooling_gradientMatchesFiniteDifferences() {
        var data = TestData(seed: 1405)
        for (shape, factor) in [([2, 4, 6, 2], 2), ([1, 6, 3, 1], 3), ([1, 2, 2, 3], 1)] {
            assertGradientsMatch([data.uniform(shape)], "\(shape), factor \(factor)") { $0[0].averagePooled(factor: factor) }
        }
    }

    /// Pooling by 2 undoes upsampling by 2 exactly (four equal values times ¼), and the
    /// gradient of the pair is the identity.
    func testPoolingAfterUpsamplingByTwo_isTheIdentity() {
        var data = TestData(seed: 1406)
        let x = data.uniform([2, 3, 5, 4])
        let seed = data.normal([2, 3, 5, 4]).storage
        let result = evaluateGradients([x], seed: seed) { $0[0].upsampledNearest(factor: 2).averagePooled(factor: 2) }
        assertIdenticalBits(result.values, x.storage, "values")
        assertIdenticalBits(result.gradients[0], seed, "gradient")
    }

    // MARK: - Threads

    /// Images with enough rows of enough elements to be cut into pieces: the same bits on 1, 2
    /// and 3 threads, forward and backward.
    func testThreads_sameBitsOnOneTwoAndThreeThreads() {
        var data = TestData(seed: 1410)
        for (shape, factor) in [([4, 16, 16, 32], 2), ([2, 12, 9, 40], 3)] {
            let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
            XCTAssertGreaterThanOrEqual(n * h * w * c * factor * factor, 2 * Parallel.minimumChunk)
            let small = data.uniform([n, h, w, c]), large = data.uniform([n, h * factor, w * factor, c])
            let seedUp = data.normal([n, h * factor, w * factor, c]).storage, seedDown = data.normal([n, h, w, c]).storage
            func run(threads: Int) -> [Evaluation] {
                withThreads(threads) {
                    [evaluateGradients([small], seed: seedUp) { $0[0].upsampledNearest(factor: factor) },
                     evaluateGradients([large], seed: seedDown) { $0[0].averagePooled(factor: factor) }]
                }
            }
            let one = run(threads: 1)
            for threads in [2, 3] {
                for (a, b) in zip(one, run(threads: threads)) { a.assertIdenticalBits(to: b, label: "\(shape), factor \(factor), \(threads) threads") }
            }
        }
    }
}
