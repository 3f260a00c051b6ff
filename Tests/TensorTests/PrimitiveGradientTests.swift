import Tensor
import XCTest

/// Every primitive's vector–Jacobian product against central finite differences.
final class PrimitiveGradientTests: XCTestCase {
    /// Operand shape pairs covering every broadcasting path of the element-wise kernels:
    /// equal shapes, row vectors ([n] and [1, n]) against a matrix, a column [m, 1], a scalar,
    /// general rank-3 broadcasting with both operands stretched, each in both orders.
    static let broadcastPairs: [([Int], [Int])] = {
        let base: [([Int], [Int])] = [
            ([3, 4], [3, 4]),
            ([3, 4], [4]),
            ([3, 4], [1, 4]),
            ([3, 4], [3, 1]),
            ([3, 4], []),
            ([3, 4], [1, 1]),
            ([3, 1, 4], [2, 1]),
            ([3, 1, 4], [2, 4]),
            ([2, 3, 4], [3, 1]),
            ([3, 1], [1, 4]),
            ([5], [1]),
        ]
        return base + base.filter { $0.0 != $0.1 }.map { ($0.1, $0.0) }
    }()

    // MARK: Element-wise binary

    func testAdd_broadcastGradientsMatchFiniteDifferences() {
        var data = TestData(seed: 10)
        for (l, r) in Self.broadcastPairs {
            assertGradientsMatch([data.uniform(l), data.uniform(r)], "\(l) + \(r)") { $0[0] + $0[1] }
        }
    }

    func testMultiply_broadcastGradientsMatchFiniteDifferences() {
        var data = TestData(seed: 11)
        for (l, r) in Self.broadcastPairs {
            assertGradientsMatch([data.uniform(l, -2, 2), data.uniform(r, -2, 2)], "\(l) * \(r)") { $0[0] * $0[1] }
        }
    }

    func testDivide_broadcastGradientsMatchFiniteDifferences() {
        var data = TestData(seed: 12)
        for (l, r) in Self.broadcastPairs {
            // Denominators bounded away from zero: |d| ∈ [0.5, 2].
            assertGradientsMatch([data.uniform(l, -2, 2), data.awayFromZero(r, 0.5, 2)], "\(l) / \(r)") { $0[0] / $0[1] }
        }
    }

    func testSameTensorAsBothOperands_gradientsMatchFiniteDifferences() {
        var data = TestData(seed: 13)
        let x = data.awayFromZero([3, 2], 0.5, 2)
        assertGradientsMatch([x], "x + x") { $0[0] + $0[0] }
        assertGradientsMatch([x], "x * x") { $0[0] * $0[0] }
        assertGradientsMatch([x], "x / x") { $0[0] / $0[0] }
    }

    // MARK: Element-wise unary

    func testExp_gradientMatchesFiniteDifferences() {
        var data = TestData(seed: 20)
        assertGradientsMatch([data.uniform([3, 4], -2, 2)]) { $0[0].exp() }
    }

    func testLog_gradientMatchesFiniteDifferencesOnPositiveInputs() {
        var data = TestData(seed: 21)
        assertGradientsMatch([data.uniform([3, 4], 0.3, 3)]) { $0[0].log() }
    }

    func testLog1p_gradientMatchesFiniteDifferencesOnPositiveInputs() {
        var data = TestData(seed: 22)
        assertGradientsMatch([data.uniform([3, 4], 0.01, 3)]) { $0[0].log1p() }
        assertGradientsMatch([data.uniform([6], -0.6, 0.6)], "near zero") { $0[0].log1p() }
    }

    func testSineAndCosine_gradientsMatchFiniteDifferences() {
        var data = TestData(seed: 23)
        assertGradientsMatch([data.uniform([3, 4], -4, 4)], "sine") { $0[0].sine() }
        assertGradientsMatch([data.uniform([3, 4], -4, 4)], "cosine") { $0[0].cosine() }
    }

    // MARK: Reductions

    func testSum_gradientOverEachAxisMatchesFiniteDifferences() {
        var data = TestData(seed: 30)
        let x = data.uniform([2, 3, 4])
        for axis in [0, 1, 2, -1] {
            for keep in [false, true] {
                assertGradientsMatch([x], "axis \(axis) keep \(keep)") { $0[0].sum(axis: axis, keepingDimensions: keep) }
            }
        }
    }

    func testSum_gradientOverSeveralAndAllAxesMatchesFiniteDifferences() {
        var data = TestData(seed: 31)
        let x = data.uniform([2, 3, 4])
        let axesChoices: [[Int]?] = [[0, 2], [1, 2], [0, 1], nil, [0, 1, 2]]
        for axes in axesChoices {
            for keep in [false, true] {
                assertGradientsMatch([x], "axes \(String(describing: axes)) keep \(keep)") {
                    $0[0].sum(axes: axes, keepingDimensions: keep)
                }
            }
        }
    }

    func testMean_gradientOverEachAxisAndAllAxesMatchesFiniteDifferences() {
        var data = TestData(seed: 32)
        let x = data.uniform([2, 3, 4])
        let axesChoices: [[Int]?] = [[0], [1], [2], [-1], [0, 2], nil]
        for axes in axesChoices {
            for keep in [false, true] {
                assertGradientsMatch([x], "axes \(String(describing: axes)) keep \(keep)") {
                    $0[0].mean(axes: axes, keepingDimensions: keep)
                }
            }
        }
    }

    func testMax_gradientOverEachAxisMatchesFiniteDifferences() {
        var data = TestData(seed: 33)
        let x = data.distinct([3, 4, 5])
        for axis in [0, 1, 2, -1] {
            for keep in [false, true] {
                assertGradientsMatch([x], "axis \(axis) keep \(keep)") { $0[0].max(axis: axis, keepingDimensions: keep) }
            }
        }
        let matrix = data.distinct([4, 6])
        for axis in [0, 1] {
            assertGradientsMatch([matrix], "matrix axis \(axis)") { $0[0].max(axis: axis) }
        }
    }

    // MARK: Matrix product

    func testMatmul_gradientsMatchFiniteDifferencesForEveryTransposeCombination() {
        var data = TestData(seed: 40)
        let (m, k, n) = (3, 4, 5)
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = data.uniform(transposeA ? [k, m] : [m, k])
                let b = data.uniform(transposeB ? [n, k] : [k, n])
                assertGradientsMatch([a, b], "transposeA \(transposeA) transposeB \(transposeB)") {
                    Tensor.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB)
                }
            }
        }
    }

    func testMatmul_instanceMethodGradientsMatchFiniteDifferences() {
        var data = TestData(seed: 41)
        let a = data.uniform([2, 3]), b = data.uniform([2, 4])
        assertGradientsMatch([a, b]) { $0[0].matmul($0[1], transposeSelf: true) }
    }

    func testMatmul_sameTensorBothOperandsGradientMatchesFiniteDifferences() {
        var data = TestData(seed: 42)
        let x = data.uniform([3, 4])
        assertGradientsMatch([x], "x · xᵀ") { Tensor.matmul($0[0], $0[0], transposeB: true) }
        assertGradientsMatch([x], "xᵀ · x") { Tensor.matmul($0[0], $0[0], transposeA: true) }
        let square = data.uniform([3, 3])
        assertGradientsMatch([square], "x · x") { Tensor.matmul($0[0], $0[0]) }
    }

    func testMatmul_gradientAccumulatesWithOtherUsesOfTheOperand() {
        // `a` feeds two products and an element-wise op: its gradient arrives from three
        // pullbacks, two of them accumulating in BLAS (β = 1).
        var data = TestData(seed: 43)
        let a = data.uniform([2, 3]), b = data.uniform([3, 4]), c = data.uniform([4, 3])
        assertGradientsMatch([a, b, c]) { x in
            let first = Tensor.matmul(x[0], x[1])
            let second = Tensor.matmul(x[0], x[2], transposeB: true)
            return first + second + x[0].sum(axis: 1, keepingDimensions: true) * 0.5
        }
        // The matmul operand is also an input of an earlier op on the tape.
        assertGradientsMatch([a, b]) { x in
            Tensor.matmul(x[0].exp(), x[1]) + Tensor.matmul(x[0], x[1])
        }
    }

    // MARK: Shape operations

    func testReshaped_gradientMatchesFiniteDifferences() {
        var data = TestData(seed: 50)
        let x = data.uniform([2, 3, 4])
        assertGradientsMatch([x], "to [6, 4]") { $0[0].reshaped([6, 4]) }
        assertGradientsMatch([x], "to [4, -1]") { $0[0].reshaped([4, -1]) }
        // Reshape then an op that mixes elements, so a wrong layout would show.
        let weights = data.uniform([4, 6])
        assertGradientsMatch([x, weights], "reshape then product") { ($0[0].reshaped([6, 4]) * $0[1].transposed()).exp() }
    }

    func testBroadcastTo_gradientSumsBackOverStretchedAxes() {
        var data = TestData(seed: 51)
        let cases: [([Int], [Int])] = [
            ([4], [3, 4]), ([3, 1], [3, 4]), ([3, 1], [2, 3, 4]), ([], [2, 3]), ([1, 1], [2, 2]),
            ([2, 1, 4], [2, 3, 4]), ([1, 3, 1], [2, 3, 4]), ([3, 4], [3, 4]),
        ]
        for (from, to) in cases {
            assertGradientsMatch([data.uniform(from)], "\(from) → \(to)") { $0[0].broadcast(to: to) }
        }
    }

    func testPermuted_gradientMatchesFiniteDifferencesForThreeAxisPermutations() {
        var data = TestData(seed: 52)
        let x = data.uniform([2, 3, 4])
        for permutation in [[2, 0, 1], [1, 2, 0], [0, 2, 1], [2, 1, 0], [1, 0, 2], [0, 1, 2]] {
            assertGradientsMatch([x], "permutation \(permutation)") { $0[0].permuted(permutation) }
        }
    }

    func testTransposed_gradientMatchesFiniteDifferences() {
        var data = TestData(seed: 53)
        let x = data.uniform([3, 5])
        assertGradientsMatch([x]) { $0[0].transposed() }
    }

    func testConcatenate_gradientsMatchFiniteDifferencesAlongAxisZeroAndOne() {
        var data = TestData(seed: 54)
        let rows = [data.uniform([2, 3]), data.uniform([1, 3]), data.uniform([3, 3])]
        assertGradientsMatch(rows, "axis 0") { Tensor.concatenate($0, axis: 0) }
        let columns = [data.uniform([2, 1]), data.uniform([2, 3]), data.uniform([2, 2])]
        assertGradientsMatch(columns, "axis 1") { Tensor.concatenate($0, axis: 1) }
        assertGradientsMatch(columns, "axis -1") { Tensor.concatenate($0, axis: -1) }
        let cubes = [data.uniform([2, 3, 1]), data.uniform([2, 3, 2]), data.uniform([2, 3, 3])]
        assertGradientsMatch(cubes, "rank 3, axis 2") { Tensor.concatenate($0, axis: 2) }
        let middle = [data.uniform([2, 1, 2]), data.uniform([2, 3, 2]), data.uniform([2, 2, 2])]
        assertGradientsMatch(middle, "rank 3, axis 1") { Tensor.concatenate($0, axis: 1) }
    }

    func testConcatenate_sameTensorTwiceAccumulatesGradient() {
        var data = TestData(seed: 55)
        let x = data.uniform([2, 3])
        assertGradientsMatch([x]) { Tensor.concatenate([$0[0], $0[0].exp(), $0[0]], axis: 0) }
    }

    func testSlice_gradientMatchesFiniteDifferencesAlongEachAxis() {
        var data = TestData(seed: 56)
        let x = data.uniform([3, 4, 5])
        let cases: [(Int, Range<Int>)] = [(0, 1..<3), (1, 0..<2), (1, 1..<4), (2, 2..<5), (-1, 0..<1), (0, 0..<3)]
        for (axis, range) in cases {
            assertGradientsMatch([x], "axis \(axis) range \(range)") { $0[0].slice(axis: axis, range) }
        }
    }

    func testGather_gradientScatterAddsRepeatedRows() {
        var data = TestData(seed: 57)
        let x = data.uniform([4, 3])
        assertGradientsMatch([x], "repeated indices") { $0[0].gather(rows: [2, 0, 2, 2, 3]) }
        let cube = data.uniform([3, 2, 2])
        assertGradientsMatch([cube], "rank 3") { $0[0].gather(rows: [1, 1, 0]) }
        let vector = data.uniform([5])
        assertGradientsMatch([vector], "rank 1") { $0[0].gather(rows: [4, 4, 0, 1]) }
    }

    func testSelect_bothBranchesReceiveGradients() {
        var data = TestData(seed: 58)
        let a = data.uniform([3, 4]), b = data.uniform([3, 4])
        let condition = data.uniform([3, 4]).mask { $0 > 0 }
        XCTAssertTrue(condition.values.contains(true) && condition.values.contains(false), "the mask should pick from both branches")
        assertGradientsMatch([a, b], "same shapes") { Tensor.select(condition, $0[0], $0[1]) }
        // Broadcast branches: a row vector and a scalar.
        let row = data.uniform([4]), scalar = data.uniform([])
        assertGradientsMatch([row, scalar], "broadcast branches") { Tensor.select(condition, $0[0], $0[1]) }
        assertGradientsMatch([scalar, a], "scalar true branch") { Tensor.select(condition, $0[0], $0[1]) }
    }

    func testSelect_unchosenBranchGetsExactlyZeroGradient() {
        let a = Tensor(parameterShape: [4], storage: [1, 2, 3, 4])
        let b = Tensor(parameterShape: [4], storage: [5, 6, 7, 8])
        let condition = Mask(shape: [4], values: [true, false, true, false])
        Tensor.select(condition, a, b).sum().backward()
        XCTAssertEqual(a.gradient, [1, 0, 1, 0])
        XCTAssertEqual(b.gradient, [0, 1, 0, 1])
    }

    // MARK: Composition

    func testGraph_diamondReuseGradientsMatchFiniteDifferences() {
        var data = TestData(seed: 60)
        let x = data.uniform([2, 3]), w = data.uniform([3, 2])
        assertGradientsMatch([x, w]) { inputs in
            let y = inputs[0].exp()
            let z = Tensor.matmul(y, inputs[1])
            let mixed = y * y + y.sum(axis: 0)
            return Tensor.matmul(z, mixed) + z.sum(axis: 1, keepingDimensions: true) * 0.1
        }
    }
}
