import Foundation
import Tensor
import XCTest

/// Composite operations declare no backward of their own; their gradients follow from the
/// primitives', which these tests check end to end.
final class CompositeGradientTests: XCTestCase {
    func testSubtract_broadcastGradientsMatchFiniteDifferences() {
        var data = TestData(seed: 100)
        for (l, r) in PrimitiveGradientTests.broadcastPairs {
            assertGradientsMatch([data.uniform(l), data.uniform(r)], "\(l) - \(r)") { $0[0] - $0[1] }
        }
    }

    func testNegate_gradientMatchesFiniteDifferences() {
        var data = TestData(seed: 101)
        assertGradientsMatch([data.uniform([3, 2])]) { -$0[0] }
    }

    func testScalarConveniences_gradientsMatchFiniteDifferences() {
        var data = TestData(seed: 102)
        let x = data.awayFromZero([2, 3], 0.5, 2)
        assertGradientsMatch([x], "x + 2") { $0[0] + 2 }
        assertGradientsMatch([x], "2 + x") { 2 + $0[0] }
        assertGradientsMatch([x], "x * 3") { $0[0] * 3 }
        assertGradientsMatch([x], "3 * x") { 3 * $0[0] }
        assertGradientsMatch([x], "x / 4") { $0[0] / 4 }
        assertGradientsMatch([x], "3 / x") { 3 / $0[0] }
        assertGradientsMatch([x], "x - 1.5") { $0[0] - 1.5 }
        assertGradientsMatch([x], "1.5 - x") { 1.5 - $0[0] }
    }

    func testSquared_gradientMatchesFiniteDifferences() {
        var data = TestData(seed: 103)
        assertGradientsMatch([data.uniform([3, 3], -2, 2)]) { $0[0].squared() }
    }

    func testSquareRoot_gradientMatchesFiniteDifferencesOnPositiveInputs() {
        var data = TestData(seed: 104)
        assertGradientsMatch([data.uniform([3, 4], 0.3, 4)]) { $0[0].squareRoot() }
    }

    func testAbsolute_gradientMatchesFiniteDifferencesAwayFromZero() {
        var data = TestData(seed: 105)
        assertGradientsMatch([data.awayFromZero([3, 4])]) { $0[0].absolute() }
    }

    func testRelu_gradientMatchesFiniteDifferencesAwayFromZero() {
        var data = TestData(seed: 106)
        assertGradientsMatch([data.awayFromZero([3, 4])]) { $0[0].relu() }
    }

    func testSoftplus_gradientMatchesFiniteDifferences() {
        var data = TestData(seed: 107)
        assertGradientsMatch([data.awayFromZero([3, 4], 0.05, 4)]) { $0[0].softplus() }
    }

    func testSigmoid_gradientMatchesFiniteDifferences() {
        var data = TestData(seed: 108)
        assertGradientsMatch([data.awayFromZero([3, 4], 0.05, 4)]) { $0[0].sigmoid() }
    }

    func testLogSigmoid_gradientMatchesFiniteDifferences() {
        var data = TestData(seed: 109)
        assertGradientsMatch([data.awayFromZero([3, 4], 0.05, 4)]) { $0[0].logSigmoid() }
    }

    func testTanh_gradientMatchesFiniteDifferences() {
        var data = TestData(seed: 110)
        assertGradientsMatch([data.awayFromZero([3, 4], 0.05, 2.5)]) { $0[0].tanh() }
    }

    func testSilu_gradientMatchesFiniteDifferences() {
        var data = TestData(seed: 111)
        assertGradientsMatch([data.awayFromZero([3, 4], 0.05, 4)]) { $0[0].silu() }
    }

    func testLogSumExp_gradientOverEachAxisMatchesFiniteDifferences() {
        var data = TestData(seed: 112)
        // Distinct values so the detached maximum does not switch under perturbation (it
        // would not change the result anyway, but keeps the check clean).
        let x = data.distinct([3, 4, 2], spacing: 0.2)
        for axis in [0, 1, 2, -1] {
            for keep in [false, true] {
                assertGradientsMatch([x], "axis \(axis) keep \(keep)") { $0[0].logSumExp(axis: axis, keepingDimensions: keep) }
            }
        }
    }

    func testLogSumExp_gradientIsSoftmax() {
        let x = Tensor(parameterShape: [2, 3], storage: [1, 2, 3, -1, 0, 4])
        x.logSumExp(axis: 1).sum().backward()
        let rows: [[Double]] = [[1, 2, 3], [-1, 0, 4]]
        let softmax = rows.flatMap { row -> [Double] in
            let total = row.map { exp($0) }.reduce(0, +)
            return row.map { exp($0) / total }
        }
        assertClose(x.gradient ?? [], softmax, rtol: 1e-5, atol: 1e-6)
    }

    func testLogMeanExp_gradientOverEachAxisMatchesFiniteDifferences() {
        var data = TestData(seed: 113)
        let x = data.uniform([4, 3], -2, 2)
        for axis in [0, 1] {
            for keep in [false, true] {
                assertGradientsMatch([x], "axis \(axis) keep \(keep)") { $0[0].logMeanExp(axis: axis, keepingDimensions: keep) }
            }
        }
    }

    func testComposites_gradientsMatchFiniteDifferencesOnLargeMagnitudes() {
        // Inputs in the tails where the stable formulations switch branches.
        let x = Tensor(shape: [6], storage: [-12, -6.5, -3, 3.5, 7, 11])
        assertGradientsMatch([x], "softplus") { $0[0].softplus() }
        assertGradientsMatch([x], "sigmoid") { $0[0].sigmoid() }
        assertGradientsMatch([x], "logSigmoid") { $0[0].logSigmoid() }
        assertGradientsMatch([x], "tanh") { $0[0].tanh() }
        assertGradientsMatch([x], "silu") { $0[0].silu() }
    }
}
