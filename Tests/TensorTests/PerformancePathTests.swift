import Foundation
import Tensor
import XCTest

/// The paths added for speed must compute what the plain paths compute:
/// - `Tensor.affine(_:weight:bias:activation:)` (the activation applied in place to the
///   product, only its slopes kept) against `affine` followed by the activation — the same
///   Float operations in the same order, so values and gradients agree exactly — and against
///   finite differences;
/// - element-wise kernels split over threads (`LinearAlgebra.setThreadCount`) against the
///   same work on one thread: every element goes through the same operations whichever thread
///   computes it, so exactly;
/// - products split into blocks of rows or columns over threads against one sgemm and a
///   Double reference: OpenBLAS's rounding depends on the block shape it is handed (as it
///   did with its own threads), so to rounding; and run twice on the same thread count,
///   exactly (results depend on the sizes and the thread count only);
/// - pullbacks that take over their output's gradient buffer and update it in place, where
///   that buffer is shared with another node's gradient;
/// - softplus through `fastLog1p` against log1p in Double, densely, including around its
///   switch from f = e to f = (e − 1)/2 at e = √2 − 1.
final class PerformancePathTests: XCTestCase {
    // MARK: - Fused affine + activation

    /// Forward values and the gradients of x, W and b, fused against unfused, for every
    /// activation (and none), bit for bit.
    func testFusedAffineActivation_equalsAffineThenActivationExactly() {
        var data = TestData(seed: 400)
        let x0 = data.normal([7, 5]), w0 = data.normal([4, 5]), b0 = data.normal([4])
        let seed = data.normal([7, 4]).storage
        let activations: [PointwiseActivation?] = [nil] + PointwiseActivation.allCases
        for activation in activations {
            let name = activation?.rawValue ?? "none"
            func parameters() -> (Tensor, Tensor, Tensor) {
                (Tensor(parameterShape: x0.shape, storage: x0.storage), Tensor(parameterShape: w0.shape, storage: w0.storage),
                 Tensor(parameterShape: b0.shape, storage: b0.storage))
            }
            let (x1, w1, b1) = parameters()
            let fused = Tensor.affine(x1, weight: w1, bias: b1, activation: activation)
            fused.backward(seed: seed)
            let (x2, w2, b2) = parameters()
            let product = Tensor.affine(x2, weight: w2, bias: b2)
            let plain = activation.map { Self.apply($0, product) } ?? product
            plain.backward(seed: seed)
            XCTAssertEqual(fused.shape, [7, 4], name)
            XCTAssertEqual(fused.storage, plain.storage, "values, \(name)")
            XCTAssertEqual(x1.gradient, x2.gradient, "dx, \(name)")
            XCTAssertEqual(w1.gradient, w2.gradient, "dW, \(name)")
            XCTAssertEqual(b1.gradient, b2.gradient, "db, \(name)")
        }
    }

    static func apply(_ activation: PointwiseActivation, _ x: Tensor) -> Tensor {
        switch activation {
        case .relu: return x.relu()
        case .sigmoid: return x.sigmoid()
        case .silu: return x.silu()
        case .tanh: return x.tanh()
        case .softplus: return x.softplus()
        }
    }

    func testFusedAffineActivation_gradientsMatchFiniteDifferences() {
        var data = TestData(seed: 401)
        for activation in PointwiseActivation.allCases {
            let x = data.uniform([3, 4], -1.5, 1.5), w = data.uniform([5, 4], -1, 1), b = data.uniform([5], -0.5, 0.5)
            // relu's kink: keep pre-activations away from 0 by checking them first.
            if activation == .relu {
                let z = Tensor.affine(x, weight: w, bias: b)
                if z.storage.contains(where: { Swift.abs($0) < 0.05 }) { continue }
            }
            assertGradientsMatch([x, w, b], activation.rawValue) { inputs in
                Tensor.affine(inputs[0], weight: inputs[1], bias: inputs[2], activation: activation)
            }
        }
    }

    /// Without recording the fused op applies the activation and keeps nothing; with only the
    /// weight trainable, only the weight and bias paths run.
    func testFusedAffineActivation_withoutRecordingAndPartialGradients() {
        var data = TestData(seed: 402)
        let x = data.normal([6, 3])
        let w = Tensor(parameterShape: [2, 3], storage: data.normal([2, 3]).storage)
        let b = Tensor(parameterShape: [2], storage: data.normal([2]).storage)
        let recorded = Tensor.affine(x, weight: w, bias: b, activation: .silu)
        let unrecorded = GradientMode.withoutRecording { Tensor.affine(x, weight: w, bias: b, activation: .silu) }
        XCTAssertTrue(recorded.requiresGradient)
        XCTAssertFalse(unrecorded.requiresGradient)
        XCTAssertEqual(recorded.storage, unrecorded.storage)
        recorded.sum().backward()
        XCTAssertNil(x.gradient, "x is a constant")
        XCTAssertNotNil(w.gradient)
        XCTAssertNotNil(b.gradient)
    }

    /// The fused layer inside a chain that reuses its output (the gradient buffer reaching it
    /// is accumulated from two uses) and feeds a second fused layer.
    func testFusedAffineActivation_inChainsMatchesFiniteDifferences() {
        var data = TestData(seed: 403)
        let x = data.uniform([4, 3], -1, 1), w1 = data.uniform([5, 3], -1, 1), b1 = data.uniform([5], -0.3, 0.3)
        let w2 = data.uniform([2, 5], -1, 1), b2 = data.uniform([2], -0.3, 0.3)
        assertGradientsMatch([x, w1, b1, w2, b2], "two fused layers") { p in
            let h = Tensor.affine(p[0], weight: p[1], bias: p[2], activation: .tanh)
            let y = Tensor.affine(h * h + h, weight: p[3], bias: p[4], activation: .silu)
            return (y * y).sum()
        }
    }

    // MARK: - Threads

    /// Products big enough to be split (by rows when C is taller, by columns when wider), all
    /// four transpose combinations: on 2 threads equal to the Double reference and to 1 thread
    /// up to rounding, and reproducible exactly.
    func testMatmul_splitOverThreadsEqualsOneThread() {
        var data = TestData(seed: 410)
        let shapes: [(m: Int, n: Int, k: Int)] = [(300, 70, 64), (40, 530, 72), (129, 131, 70)]
        for (m, n, k) in shapes {
            XCTAssertGreaterThanOrEqual(m * n * k, LinearAlgebra.parallelProductThreshold)
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    let a = data.normal(transposeA ? [k, m] : [m, k])
                    let b = data.normal(transposeB ? [n, k] : [k, n])
                    let label = "\(m)×\(n)×\(k) tA \(transposeA) tB \(transposeB)"
                    let one = withThreads(1) { Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB) }
                    let two = withThreads(2) { Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB) }
                    let again = withThreads(2) { Tensor.matmul(a, b, transposeA: transposeA, transposeB: transposeB) }
                    XCTAssertEqual(two.storage, again.storage, "reproducible, \(label)")
                    assertClose(two.storage, one.storage.map(Double.init), rtol: 1e-5, atol: 1e-5, "1 vs 2 threads, \(label)")
                    let reference = naiveMatmul(a, b, transposeA: transposeA, transposeB: transposeB)
                    XCTAssertEqual(two.shape, reference.shape, label)
                    assertClose(two.storage, reference.values, rtol: 1e-4, atol: 1e-4, label)
                }
            }
        }
    }

    /// Gradients of a product large enough to split, which accumulate into existing ones.
    func testMatmul_splitGradientsAccumulateLikeOneThread() {
        var data = TestData(seed: 411)
        // Tall (blocks of rows) and wide (blocks of columns: the products of a batch of 40
        // against 530 units, and both of their gradients).
        for (m, k, n) in [(256, 96, 80), (40, 96, 530)] {
            let a0 = data.normal([m, k]), b0 = data.normal([k, n])
            let seed = data.normal([m, n]).storage
            func gradients(threads: Int) -> ([Float], [Float]) {
                withThreads(threads) {
                    let a = Tensor(parameterShape: a0.shape, storage: a0.storage)
                    let b = Tensor(parameterShape: b0.shape, storage: b0.storage)
                    Tensor.matmul(a, b).backward(seed: seed)
                    Tensor.matmul(a, b).backward(seed: seed)  // accumulates (β = 1)
                    return (a.gradient!, b.gradient!)
                }
            }
            let one = gradients(threads: 1), two = gradients(threads: 2)
            let label = "\(m)×\(k) · \(k)×\(n)"
            XCTAssertEqual(two.0, gradients(threads: 2).0, "reproducible, \(label)")
            assertClose(two.0, one.0.map(Double.init), rtol: 1e-5, atol: 1e-5, "dA, 1 vs 2 threads, \(label)")
            assertClose(two.1, one.1.map(Double.init), rtol: 1e-5, atol: 1e-5, "dB, 1 vs 2 threads, \(label)")
            // Twice the gradient of one product: dA = 2 · seed · Bᵀ, dB = 2 · Aᵀ · seed.
            let seedTensor = Tensor(shape: [m, n], storage: seed)
            assertClose(two.0, naiveMatmul(seedTensor, b0, transposeA: false, transposeB: true).values.map { 2 * $0 },
                        rtol: 1e-4, atol: 1e-4, "dA, \(label)")
            assertClose(two.1, naiveMatmul(a0, seedTensor, transposeA: true, transposeB: false).values.map { 2 * $0 },
                        rtol: 1e-4, atol: 1e-4, "dB, \(label)")
        }
    }

    /// Element-wise kernels, binary operations and row sums over more elements than one chunk:
    /// the same values and gradients on 1 and 2 threads; the fused affine layer (a split
    /// product, then an activation split in place) to rounding.
    func testElementwise_splitOverThreadsEqualsOneThread() {
        var data = TestData(seed: 412)
        let count = 3 * Parallel.minimumChunk + 123
        let x0 = data.uniform([count], -40, 40), other = data.uniform([count], 0.5, 2)
        func run(threads: Int) -> [[Float]] {
            withThreads(threads) {
                var results: [[Float]] = []
                for activation in PointwiseActivation.allCases {
                    let x = Tensor(parameterShape: [count], storage: x0.storage)
                    let y = Self.apply(activation, x) * other + 0.5
                    y.backward()
                    results += [y.storage, x.gradient!]
                }
                results.append(Tensor(shape: [count / 64, 64], storage: Array(x0.storage.prefix(count / 64 * 64)))
                    .rowSumsInDouble().map(Float.init))
                return results
            }
        }
        let one = run(threads: 1), two = run(threads: 2)
        XCTAssertEqual(one.count, two.count)
        for (i, (a, b)) in zip(one, two).enumerated() {
            XCTAssertEqual(a, b, "result \(i)")
        }
        func affine(threads: Int) -> [Float] {
            withThreads(threads) {
                Tensor.affine(Tensor(shape: [count / 64, 64], storage: Array(x0.storage.prefix(count / 64 * 64))),
                              weight: Tensor(shape: [48, 64], storage: Array(other.storage.prefix(48 * 64))),
                              bias: Tensor(repeating: 0.25, shape: [48]), activation: .silu).storage
            }
        }
        assertClose(affine(threads: 2), affine(threads: 1).map(Double.init), rtol: 1e-5, atol: 1e-5, "fused affine")
    }

    /// The bias gradient Σ_rows dz: each column summed in Double in row order — exactly, by both
    /// kernels, on 1 and 2 threads (blocks of columns are shared out, never blocks of rows).
    func testColumnSums_sameBitsAsARowOrderDoubleSum() {
        var data = TestData(seed: 420)
        let kernelSets: [ComputeKernels] = ComputeKernels.allCases.filter(\.isAvailable)
        for (rows, columns) in [(5, 3), (300, 70), (1000, 130), (64, 16), (2048, 33)] {
            let values = data.normal([rows * columns]).storage
            var expected = [Float](repeating: 0, count: columns)
            for j in 0..<columns {
                var total = 0.0
                for i in 0..<rows { total += Double(values[i * columns + j]) }
                expected[j] = Float(total)
            }
            for kernels in kernelSets {
                for threads in [1, 2] {
                    let sums = withThreads(threads) { Tensor.columnSums(values, rows: rows, columns: columns, kernels: kernels) }
                    XCTAssertEqual(sums, expected, "\(rows)×\(columns), \(kernels), \(threads) threads")
                }
            }
        }
    }

    // MARK: - Buffers taken over by pullbacks

    /// `a + b` hands the same gradient buffer to both inputs; each fused pullback then scales
    /// its own copy in place. Neither may see the other's update.
    func testPullbacks_sharedGradientBufferIsNotOverwritten() {
        let values: [Float] = [-2, -0.5, 0.25, 1.5, 3]
        let x = Tensor(parameterShape: [5], storage: values)
        (x.silu() + x.tanh()).backward()
        let y = Tensor(parameterShape: [5], storage: values)
        y.silu().backward()
        let z = Tensor(parameterShape: [5], storage: values)
        z.tanh().backward()
        for i in 0..<5 {
            XCTAssertEqual(x.gradient![i], y.gradient![i] + z.gradient![i], accuracy: 1e-7, "element \(i)")
        }
        // The same node used twice: its gradient is the sum of both uses.
        let u = Tensor(parameterShape: [5], storage: values)
        let s = u.sigmoid()
        (s + s).backward()
        let v = Tensor(parameterShape: [5], storage: values)
        v.sigmoid().backward()
        for i in 0..<5 { XCTAssertEqual(u.gradient![i], 2 * v.gradient![i], accuracy: 1e-7) }
    }

    /// The tape may be replayed for a second loss through the same parameters: buffers taken by
    /// pullbacks in the first pass must not leak into the second.
    func testPullbacks_repeatedBackwardPassesAccumulate() {
        var data = TestData(seed: 413)
        let x = data.normal([6, 4])
        let w = Tensor(parameterShape: [3, 4], storage: data.normal([3, 4]).storage)
        let b = Tensor(parameterShape: [3], storage: data.normal([3]).storage)
        Tensor.affine(x, weight: w, bias: b, activation: .softplus).sum().backward()
        let once = w.gradient!
        Tensor.affine(x, weight: w, bias: b, activation: .softplus).sum().backward()
        for (twice, single) in zip(w.gradient!, once) { XCTAssertEqual(twice, 2 * single, accuracy: 1e-5 * Swift.abs(single) + 1e-7) }
    }

    // MARK: - Shortcuts without a tape

    /// `a − b` without recording is one pass; with recording it is the composite a + (−b).
    /// Same values either way, and the recorded one still has its gradient.
    func testSubtraction_withoutRecordingEqualsComposite() {
        var data = TestData(seed: 420)
        let a = data.normal([5, 7]), b = data.normal([7]), c = data.normal([5, 7])
        for (lhs, rhs) in [(a, b), (a, c), (b, a), (a, Tensor(0.5))] {
            let direct = GradientMode.withoutRecording { lhs - rhs }
            let composite = lhs + (-rhs)
            XCTAssertEqual(direct.shape, composite.shape)
            XCTAssertEqual(direct.storage, composite.storage)
            XCTAssertFalse(direct.requiresGradient)
        }
        let p = Tensor(parameterShape: [5, 7], storage: a.storage)
        (p - c).sum().backward()
        XCTAssertEqual(p.gradient, [Float](repeating: 1, count: 35))
    }

    /// Sums over the last axis (and their gradients, which broadcast back) take a row-wise path:
    /// the same additions in the same order as the general one.
    func testRowSums_equalTheGeneralReduction() {
        var data = TestData(seed: 421)
        let x = data.normal([300, 129])
        let kept = x.sum(axis: 1, keepingDimensions: true), dropped = x.sum(axis: -1)
        XCTAssertEqual(kept.shape, [300, 1])
        XCTAssertEqual(dropped.shape, [300])
        XCTAssertEqual(kept.storage, dropped.storage)
        for row in 0..<300 {
            var total = 0.0
            for j in 0..<129 { total += Double(x.storage[row * 129 + j]) }
            XCTAssertEqual(dropped.storage[row], Float(total), "row \(row)")
        }
        let p = Tensor(parameterShape: [300, 129], storage: x.storage)
        let weights = data.normal([300])
        (p.sum(axis: -1) * weights).sum().backward()
        for row in [0, 17, 299] {
            for j in [0, 64, 128] { XCTAssertEqual(p.gradient![row * 129 + j], weights.storage[row]) }
        }
    }

    // MARK: - softplus / fastLog1p

    /// softplus(x) = log1p(eˣ) for x ≤ 0 is fastLog1p of e = fastExponential(x); its relative
    /// error is at most e's (2·10⁻⁷) plus fastLog1p's own and a rounding. Dense on [−80, 0],
    /// denser around e = √2 − 1 (x ≈ −0.8814), where fastLog1p changes its reduction.
    func testSoftplus_matchesLog1pDenselyIncludingTheReductionSwitch() {
        var values = stride(from: -80.0, through: 0, by: 1.0 / 64).map { Float($0) }
        let switchPoint = Foundation.log(2.0.squareRoot() - 1)
        values += (-2000...2000).map { Float(switchPoint + Double($0) * 1e-6) }
        values += (1...200).map { Float(-Double($0) / 1000) }
        let y = Tensor(shape: [values.count], storage: values).softplus().storage
        var worst = 0.0
        for (x, s) in zip(values, y) {
            let exact = Foundation.log1p(Foundation.exp(Double(x)))
            let relative = Swift.abs(Double(s) - exact) / exact
            worst = Swift.max(worst, relative)
            XCTAssertLessThanOrEqual(relative, 5e-7, "softplus(\(x)) = \(s), exact \(exact)")
        }
        XCTAssertLessThan(worst, 5e-7)
        // Positive side: x + log1p(e^{−x}).
        for x in stride(from: Float(0), through: 30, by: 0.125) {
            let exact = Double(x) + Foundation.log1p(Foundation.exp(-Double(x)))
            let s = Double(Tensor(shape: [1], storage: [x]).softplus().storage[0])
            XCTAssertEqual(s, exact, accuracy: 3e-7 * exact, "softplus(\(x))")
        }
    }
}
