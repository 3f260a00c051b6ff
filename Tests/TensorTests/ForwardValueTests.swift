import Foundation
import Tensor
import XCTest

/// Forward values against naive references written independently of the engine (gradient
/// checks only prove that a gradient matches its own forward pass).
final class ForwardValueTests: XCTestCase {
    // MARK: Element-wise

    func testBinaryOperators_broadcastForwardMatchesNaiveReference() {
        var data = TestData(seed: 200)
        let operations: [(String, (Tensor, Tensor) -> Tensor, (Double, Double) -> Double)] = [
            ("+", { $0 + $1 }, { $0 + $1 }),
            ("-", { $0 - $1 }, { $0 - $1 }),
            ("*", { $0 * $1 }, { $0 * $1 }),
            ("/", { $0 / $1 }, { $0 / $1 }),
        ]
        for (l, r) in PrimitiveGradientTests.broadcastPairs {
            let a = data.uniform(l, -2, 2), b = data.awayFromZero(r, 0.5, 2)
            let shape = Broadcasting.shape(l, r)!
            for (name, operation, reference) in operations {
                let result = operation(a, b)
                XCTAssertEqual(result.shape, shape, "\(l) \(name) \(r)")
                let expected = (0..<shape.reduce(1, *)).map { flat -> Double in
                    let index = multiIndex(flat, shape)
                    return reference(Double(broadcastElement(a, at: index)), Double(broadcastElement(b, at: index)))
                }
                assertClose(result.storage, expected, rtol: 1e-6, atol: 1e-6, "\(l) \(name) \(r)")
            }
        }
    }

    func testUnaryPrimitives_matchDoubleReference() {
        var data = TestData(seed: 201)
        let x = data.uniform([20], 0.01, 5)
        assertClose(x.exp().storage, x.storage.map { exp(Double($0)) }, rtol: 1e-6, atol: 0, "exp")
        assertClose(x.log().storage, x.storage.map { log(Double($0)) }, rtol: 1e-6, atol: 1e-7, "log")
        assertClose(x.log1p().storage, x.storage.map { log1p(Double($0)) }, rtol: 1e-6, atol: 0, "log1p")
        // log1p keeps full precision for tiny arguments.
        XCTAssertEqual(Tensor(1e-10).log1p().scalar, 1e-10, accuracy: 1e-16)
    }

    // MARK: Matrix product

    func testMatmul_forwardMatchesTripleLoopForEveryTransposeCombination() {
        var data = TestData(seed: 210)
        let (m, k, n) = (5, 7, 3)
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = data.uniform(transposeA ? [k, m] : [m, k])
                let b = data.uniform(transposeB ? [n, k] : [k, n])
                let result = Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB)
                let reference = naiveMatmul(a, b, transposeA: transposeA, transposeB: transposeB)
                XCTAssertEqual(result.shape, reference.shape)
                assertClose(result.storage, reference.values, rtol: 1e-5, atol: 1e-5,
                            "transposeA \(transposeA) transposeB \(transposeB)")
            }
        }
    }

    func testMatmul_handlesVectorShapedAndEmptyInnerDimension() {
        let row = Tensor([[1, 2, 3]])
        let column = Tensor(shape: [3, 1], storage: [4, 5, 6])
        XCTAssertEqual(Tensor.matmul(row, column).storage, [32])
        XCTAssertEqual(Tensor.matmul(column, row).storage, [4, 8, 12, 5, 10, 15, 6, 12, 18])
        let empty = Tensor.matmul(Tensor(shape: [2, 0], storage: []), Tensor(shape: [0, 3], storage: []))
        XCTAssertEqual(empty.shape, [2, 3])
        XCTAssertEqual(empty.storage, [Float](repeating: 0, count: 6))
    }

    // MARK: Reductions

    /// Σ over `axes` by visiting every input element once.
    private func naiveSum(_ x: Tensor, axes: Set<Int>) -> (kept: [Int], values: [Double]) {
        let kept = x.shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let strides = rowMajorStrides(kept)
        var values = [Double](repeating: 0, count: kept.reduce(1, *))
        for flat in 0..<x.count {
            let index = multiIndex(flat, x.shape)
            var target = 0
            for axis in 0..<x.rank where !axes.contains(axis) { target += index[axis] * strides[axis] }
            values[target] += Double(x.storage[flat])
        }
        return (kept, values)
    }

    func testSum_forwardMatchesNaiveReferenceForEveryAxisSet() {
        var data = TestData(seed: 220)
        let x = data.uniform([2, 3, 4])
        let axesChoices: [[Int]] = [[0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]
        for axes in axesChoices {
            let (kept, expected) = naiveSum(x, axes: Set(axes))
            let keep = x.sum(axes: axes, keepingDimensions: true)
            XCTAssertEqual(keep.shape, kept, "axes \(axes)")
            assertClose(keep.storage, expected, rtol: 1e-5, atol: 1e-6, "axes \(axes) kept")
            let drop = x.sum(axes: axes)
            XCTAssertEqual(drop.shape, x.shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element), "axes \(axes)")
            assertClose(drop.storage, expected, rtol: 1e-5, atol: 1e-6, "axes \(axes) dropped")
        }
        XCTAssertEqual(x.sum().shape, [])
        XCTAssertEqual(Double(x.sum().scalar), x.storage.map(Double.init).reduce(0, +), accuracy: 1e-5)
        XCTAssertEqual(x.sum(axis: -1).shape, [2, 3])
    }

    func testMean_forwardDividesByNumberOfTerms() {
        var data = TestData(seed: 221)
        let x = data.uniform([2, 3, 4])
        let (_, sums) = naiveSum(x, axes: [0, 2])
        let mean = x.mean(axes: [0, 2])
        XCTAssertEqual(mean.shape, [3])
        assertClose(mean.storage, sums.map { $0 / 8 }, rtol: 1e-5, atol: 1e-6)
        XCTAssertEqual(Double(x.mean().scalar), x.storage.map(Double.init).reduce(0, +) / 24, accuracy: 1e-6)
        XCTAssertEqual(x.mean(axes: [1], keepingDimensions: true).shape, [2, 1, 4])
    }

    func testMax_forwardMatchesNaiveReferenceOverEachAxis() {
        var data = TestData(seed: 222)
        let x = data.uniform([3, 4, 5])
        for axis in 0..<3 {
            var outputShape = x.shape
            outputShape[axis] = 1
            var expected = [Float](repeating: -.infinity, count: outputShape.reduce(1, *))
            let strides = rowMajorStrides(outputShape)
            for flat in 0..<x.count {
                var index = multiIndex(flat, x.shape)
                index[axis] = 0
                let target = zip(index, strides).map { $0 * $1 }.reduce(0, +)
                expected[target] = Swift.max(expected[target], x.storage[flat])
            }
            let kept = x.max(axis: axis, keepingDimensions: true)
            XCTAssertEqual(kept.shape, outputShape)
            XCTAssertEqual(kept.storage, expected, "axis \(axis)")
            XCTAssertEqual(x.max(axis: axis).shape, x.shape.enumerated().filter { $0.offset != axis }.map(\.element))
        }
    }

    func testMax_gradientGoesToFirstMaximumOnTies() {
        let x = Tensor(parameterShape: [2, 3], storage: [1, 5, 5, 7, 7, 2])
        x.max(axis: 1).sum().backward()
        XCTAssertEqual(x.gradient, [0, 1, 0, 1, 0, 0])
    }

    // MARK: Shape operations

    func testReshaped_keepsElementOrderAndInfersExtent() {
        let x = Tensor(shape: [2, 3], storage: [0, 1, 2, 3, 4, 5])
        let y = x.reshaped([3, -1])
        XCTAssertEqual(y.shape, [3, 2])
        XCTAssertEqual(y.storage, x.storage)
        XCTAssertEqual(x.reshaped([-1]).shape, [6])
    }

    func testBroadcastTo_forwardMatchesNaiveReference() {
        var data = TestData(seed: 230)
        for (from, to) in [([3, 1], [2, 3, 4]), ([4], [3, 4]), ([], [2, 2]), ([2, 1, 4], [2, 3, 4])] as [([Int], [Int])] {
            let x = data.uniform(from)
            let y = x.broadcast(to: to)
            XCTAssertEqual(y.shape, to)
            let expected = (0..<to.reduce(1, *)).map { Double(broadcastElement(x, at: multiIndex($0, to))) }
            assertClose(y.storage, expected, rtol: 0, atol: 0, "\(from) → \(to)")
        }
    }

    func testPermuted_outputAxisIsInputAxisPermutationEntry() {
        var data = TestData(seed: 231)
        let x = data.uniform([2, 3, 4])
        for permutation in [[2, 0, 1], [1, 2, 0], [0, 2, 1], [2, 1, 0]] {
            let y = x.permuted(permutation)
            XCTAssertEqual(y.shape, permutation.map { x.shape[$0] })
            let inputStrides = rowMajorStrides(x.shape)
            for flat in 0..<y.count {
                let index = multiIndex(flat, y.shape)
                // Output axis i is input axis permutation[i].
                var source = 0
                for (i, p) in permutation.enumerated() { source += index[i] * inputStrides[p] }
                XCTAssertEqual(y.storage[flat], x.storage[source], "permutation \(permutation) element \(flat)")
            }
        }
    }

    func testTransposed_swapsRowsAndColumns() {
        let x = Tensor([[1, 2, 3], [4, 5, 6]])
        let t = x.transposed()
        XCTAssertEqual(t.shape, [3, 2])
        XCTAssertEqual(t.storage, [1, 4, 2, 5, 3, 6])
    }

    func testConcatenate_joinsAlongAxis() {
        let a = Tensor([[1, 2], [3, 4]])
        let b = Tensor([[5, 6]])
        let c = Tensor([[7, 8], [9, 10], [11, 12]])
        let rows = Tensor.concatenate([a, b, c], axis: 0)
        XCTAssertEqual(rows.shape, [6, 2])
        XCTAssertEqual(rows.storage, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        let d = Tensor(shape: [2, 1], storage: [-1, -2])
        let e = Tensor([[10, 20, 30], [40, 50, 60]])
        let columns = Tensor.concatenate([a, d, e], axis: 1)
        XCTAssertEqual(columns.shape, [2, 6])
        XCTAssertEqual(columns.storage, [1, 2, -1, 10, 20, 30, 3, 4, -2, 40, 50, 60])
    }

    func testSlice_picksRangeAlongEachAxis() {
        let x = Tensor(shape: [2, 3, 4], storage: (0..<24).map(Float.init))
        let first = x.slice(axis: 0, 1..<2)
        XCTAssertEqual(first.shape, [1, 3, 4])
        XCTAssertEqual(first.storage, (12..<24).map(Float.init))
        let middle = x.slice(axis: 1, 1..<3)
        XCTAssertEqual(middle.shape, [2, 2, 4])
        XCTAssertEqual(middle.storage, [4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23])
        let last = x.slice(axis: -1, 2..<4)
        XCTAssertEqual(last.shape, [2, 3, 2])
        XCTAssertEqual(last.storage, [2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23])
    }

    func testGather_picksRowsWithRepeats() {
        let x = Tensor([[1, 2], [3, 4], [5, 6]])
        let y = x.gather(rows: [2, 0, 2])
        XCTAssertEqual(y.shape, [3, 2])
        XCTAssertEqual(y.storage, [5, 6, 1, 2, 5, 6])
    }

    func testSelect_picksPerElementWithBroadcastBranches() {
        let condition = Mask(shape: [2, 3], values: [true, false, true, false, true, false])
        let a = Tensor([[1, 2, 3], [4, 5, 6]])
        let row = Tensor(shape: [3], storage: [10, 20, 30])
        XCTAssertEqual(Tensor.select(condition, a, row).storage, [1, 20, 3, 10, 5, 30])
        XCTAssertEqual(Tensor.select(condition, Tensor(-1), a).storage, [-1, 2, -1, 4, -1, 6])
    }

    // MARK: Composites

    func testComposites_matchDoubleReferences() {
        var data = TestData(seed: 240)
        let x = data.uniform([40], -8, 8)
        let values = x.storage.map(Double.init)
        func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
        func softplus(_ v: Double) -> Double { Swift.max(v, 0) + log1p(exp(-Swift.abs(v))) }
        assertClose(x.sigmoid().storage, values.map(sigmoid), rtol: 1e-5, atol: 1e-7, "sigmoid")
        assertClose(x.softplus().storage, values.map(softplus), rtol: 1e-5, atol: 1e-7, "softplus")
        assertClose(x.logSigmoid().storage, values.map { -softplus(-$0) }, rtol: 1e-5, atol: 1e-7, "logSigmoid")
        assertClose(x.tanh().storage, values.map { tanh($0) }, rtol: 1e-5, atol: 1e-6, "tanh")
        assertClose(x.silu().storage, values.map { $0 * sigmoid($0) }, rtol: 1e-5, atol: 1e-6, "silu")
        assertClose(x.relu().storage, values.map { Swift.max($0, 0) }, rtol: 0, atol: 0, "relu")
        assertClose(x.absolute().storage, values.map { Swift.abs($0) }, rtol: 0, atol: 0, "absolute")
        assertClose((-x).storage, values.map { -$0 }, rtol: 0, atol: 0, "negate")
        assertClose(x.squared().storage, values.map { $0 * $0 }, rtol: 1e-6, atol: 0, "squared")
        let positive = x.absolute() + 0.01
        assertClose(positive.squareRoot().storage, positive.storage.map { Double($0).squareRoot() }, rtol: 1e-5, atol: 0, "squareRoot")
    }

    func testLogSumExpAndLogMeanExp_matchDoubleReferenceOverEachAxis() {
        var data = TestData(seed: 241)
        let x = data.uniform([3, 4], -5, 5)
        for axis in [0, 1] {
            let (kept, _) = naiveSum(x, axes: [axis])
            let strides = rowMajorStrides(kept)
            var totals = [Double](repeating: 0, count: kept.reduce(1, *))
            for flat in 0..<x.count {
                var index = multiIndex(flat, x.shape)
                index[axis] = 0
                totals[zip(index, strides).map { $0 * $1 }.reduce(0, +)] += exp(Double(x.storage[flat]))
            }
            let lse = x.logSumExp(axis: axis)
            XCTAssertEqual(lse.shape, [x.shape[1 - axis]])
            assertClose(lse.storage, totals.map { log($0) }, rtol: 1e-5, atol: 1e-6, "logSumExp axis \(axis)")
            XCTAssertEqual(x.logSumExp(axis: axis, keepingDimensions: true).shape, kept)
            let lme = x.logMeanExp(axis: axis, keepingDimensions: true)
            XCTAssertEqual(lme.shape, kept)
            assertClose(lme.storage, totals.map { log($0 / Double(x.shape[axis])) }, rtol: 1e-5, atol: 1e-6, "logMeanExp axis \(axis)")
        }
    }
}
