import Tensor
import XCTest

/// The harness must accept correct vector–Jacobian products and reject wrong ones; otherwise
/// every gradient test built on it proves nothing.
final class GradientCheckHarnessTests: XCTestCase {
    /// y = x³ element-wise as a custom operation whose pullback multiplies by `factor · 3x²`.
    private func customCube(_ x: Tensor, factor: Float) -> Tensor {
        let values = x.storage.map { $0 * $0 * $0 }
        return Tensor.recordOperation(shape: x.shape, storage: values, inputs: [x]) { output in
            let g = output.gradient!
            var dx = [Float](repeating: 0, count: x.count)
            for i in 0..<x.count { dx[i] = factor * 3 * x.storage[i] * x.storage[i] * g[i] }
            x.accumulateGradient(dx, shape: x.shape)
        }
    }

    /// y = a + bias with bias [n] broadcast over the rows of a [m, n]. With `sumOverRows`
    /// false the pullback hands the bias only the first row of the gradient: the classic bug of
    /// forgetting to sum a broadcast operand's gradient.
    private func customBiasAdd(_ a: Tensor, _ bias: Tensor, sumOverRows: Bool) -> Tensor {
        let n = bias.count
        var values = a.storage
        for i in 0..<values.count { values[i] += bias.storage[i % n] }
        return Tensor.recordOperation(shape: a.shape, storage: values, inputs: [a, bias]) { output in
            let g = output.gradient!
            a.accumulateGradient(g, shape: a.shape)
            if sumOverRows {
                var dBias = [Float](repeating: 0, count: n)
                for i in 0..<g.count { dBias[i % n] += g[i] }
                bias.accumulateGradient(dBias, shape: bias.shape)
            } else {
                bias.accumulateGradient(Array(g.prefix(n)), shape: bias.shape)
            }
        }
    }

    func testGradientCheck_acceptsCorrectCustomOperation() {
        var data = TestData(seed: 1)
        let x = data.uniform([3, 4], -1.5, 1.5)
        let report = GradientCheck().run([x]) { customCube($0[0], factor: 1) }
        XCTAssertTrue(report.passed, "\(report)")
        XCTAssertLessThan(report.worstRatio, 0.5, "a correct VJP should sit well inside the tolerance")
    }

    func testGradientCheck_acceptsCorrectBroadcastingCustomOperation() {
        var data = TestData(seed: 2)
        let a = data.uniform([4, 3]), bias = data.uniform([3])
        let report = GradientCheck().run([a, bias]) { customBiasAdd($0[0], $0[1], sumOverRows: true) }
        XCTAssertTrue(report.passed, "\(report)")
    }

    func testGradientCheck_rejectsPullbackOffByTenPercent() {
        var data = TestData(seed: 3)
        let x = data.uniform([3, 4], -1.5, 1.5)
        let report = GradientCheck().run([x]) { customCube($0[0], factor: 1.1) }
        XCTAssertFalse(report.passed, "a VJP scaled by 1.1 must be rejected")
        XCTAssertGreaterThan(report.worstRatio, 2, "the 10 % error should miss the tolerance clearly")
    }

    func testGradientCheck_rejectsPullbackOffByTenPercentDownward() {
        var data = TestData(seed: 4)
        let x = data.uniform([5], -1.5, 1.5)
        let report = GradientCheck().run([x]) { customCube($0[0], factor: 0.9) }
        XCTAssertFalse(report.passed, "a VJP scaled by 0.9 must be rejected")
    }

    func testGradientCheck_rejectsPullbackWithWrongSign() {
        var data = TestData(seed: 5)
        let x = data.uniform([2, 3], -1.5, 1.5)
        let report = GradientCheck().run([x]) { customCube($0[0], factor: -1) }
        XCTAssertFalse(report.passed, "a VJP with the wrong sign must be rejected")
    }

    func testGradientCheck_rejectsPullbackThatForgetsUnbroadcastSum() {
        var data = TestData(seed: 6)
        let a = data.uniform([4, 3]), bias = data.uniform([3])
        let report = GradientCheck().run([a, bias]) { customBiasAdd($0[0], $0[1], sumOverRows: false) }
        XCTAssertFalse(report.passed, "a bias gradient without the sum over rows must be rejected")
        XCTAssertTrue(report.mismatches.allSatisfy { $0.hasPrefix("input 1") },
                      "only the bias (input 1) is wrong; the matrix gradient is correct:\n\(report)")
    }

    func testGradientCheck_rejectsMissingGradient() {
        var data = TestData(seed: 7)
        let x = data.uniform([4])
        let report = GradientCheck().run([x]) { inputs in
            let x = inputs[0]
            return Tensor.recordOperation(shape: x.shape, storage: x.storage.map { 2 * $0 }, inputs: [x]) { _ in }
        }
        XCTAssertFalse(report.passed, "a pullback that drops the gradient must be rejected")
    }

    func testGradientCheck_rejectsGradientOfWrongElement() {
        // y_i = x_i · x_{i+1 mod n}: the pullback below swaps which neighbour each term goes to.
        var data = TestData(seed: 8)
        let x = data.uniform([5], 0.5, 2)
        let report = GradientCheck().run([x]) { inputs in
            let x = inputs[0]
            let n = x.count
            let values = (0..<n).map { x.storage[$0] * x.storage[($0 + 1) % n] }
            return Tensor.recordOperation(shape: [n], storage: values, inputs: [x]) { output in
                let g = output.gradient!
                var dx = [Float](repeating: 0, count: n)
                for i in 0..<n {
                    // Correct: dx[i] += g[i]·x[i+1]; dx[i+1] += g[i]·x[i]. Wrong: swapped partners.
                    dx[i] += g[i] * x.storage[i]
                    dx[(i + 1) % n] += g[i] * x.storage[(i + 1) % n]
                }
                x.accumulateGradient(dx, shape: x.shape)
            }
        }
        XCTAssertFalse(report.passed, "a Jacobian with swapped partials must be rejected")
    }
}
