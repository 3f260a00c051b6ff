import Foundation
import Tensor
import XCTest

/// `MatrixProduct`, every kernel, against a Double reference with a rounding bound that holds
/// for any order of summation: a Float dot product of length k with one more addition (the
/// bias or the previous C) is within γ_{k+1} · (Σ_p |a_ip b_pj| + |c₀|) of the exact value,
/// γ_n = n u / (1 − n u), u = 2⁻²⁴ (Higham, *Accuracy and Stability of Numerical Algorithms*,
/// §3.1). A lost block of depth, a wrong panel or a misplaced edge element is off by a whole
/// term — far outside that bound.
///
/// Shapes cover every edge of the blocking: m and n that are not multiples of the 6 × 16
/// tile, k across the 256-deep blocks, one-row and one-column products, more row blocks than
/// threads and fewer, all four transpose combinations, accumulation, bias, an epilogue, and
/// leading dimensions wider than the operand (sub-matrices).
final class MatrixProductTests: XCTestCase {
    struct Case {
        let m: Int, n: Int, k: Int
    }

    static let cases: [Case] = [
        Case(m: 1, n: 1, k: 1), Case(m: 6, n: 16, k: 8), Case(m: 7, n: 17, k: 3), Case(m: 5, n: 15, k: 300),
        Case(m: 1, n: 130, k: 70), Case(m: 130, n: 1, k: 70), Case(m: 2, n: 128, k: 512), Case(m: 512, n: 2, k: 128),
        Case(m: 97, n: 33, k: 257), Case(m: 300, n: 70, k: 64), Case(m: 40, n: 530, k: 72), Case(m: 129, n: 131, k: 513),
        Case(m: 64, n: 200, k: 784), Case(m: 150, n: 20, k: 1),
    ]

    static let unitRoundoff = 0x1p-24

    static func gamma(_ n: Int) -> Double { Double(n) * unitRoundoff / (1 - Double(n) * unitRoundoff) }

    /// op(A)[i][p] and op(B)[p][j] from row-major storage with leading dimensions.
    struct Operands {
        var a: [Float], lda: Int, transposeA: Bool
        var b: [Float], ldb: Int, transposeB: Bool
        let m: Int, n: Int, k: Int

        func elementA(_ i: Int, _ p: Int) -> Float { transposeA ? a[p * lda + i] : a[i * lda + p] }
        func elementB(_ p: Int, _ j: Int) -> Float { transposeB ? b[j * ldb + p] : b[p * ldb + j] }

        init(_ c: Case, transposeA: Bool, transposeB: Bool, padding: Int, using data: inout TestData) {
            m = c.m; n = c.n; k = c.k
            self.transposeA = transposeA
            self.transposeB = transposeB
            // Stored [rows, columns + padding]; the padding is never read.
            let aRows = transposeA ? k : m, aColumns = transposeA ? m : k
            let bRows = transposeB ? n : k, bColumns = transposeB ? k : n
            lda = aColumns + padding
            ldb = bColumns + padding
            a = data.normal([aRows * lda]).storage
            b = data.normal([bRows * ldb]).storage
            if padding > 0 {
                for r in 0..<aRows { for q in aColumns..<lda { a[r * lda + q] = .nan } }
                for r in 0..<bRows { for q in bColumns..<ldb { b[r * ldb + q] = .nan } }
            }
        }

        /// Σ_p op(A)[i][p] op(B)[p][j] and Σ_p |op(A)[i][p] op(B)[p][j]| in Double, row-major.
        func exactProduct() -> (values: [Double], magnitudes: [Double]) {
            var values = [Double](repeating: 0, count: m * n), magnitudes = values
            for i in 0..<m {
                for j in 0..<n {
                    var total = 0.0, magnitude = 0.0
                    for p in 0..<k {
                        let product = Double(elementA(i, p)) * Double(elementB(p, j))
                        total += product
                        magnitude += Swift.abs(product)
                    }
                    values[i * n + j] = total
                    magnitudes[i * n + j] = magnitude
                }
            }
            return (values, magnitudes)
        }

        /// (exact value, bound on its rounding error) of every element of initial + op(A) op(B).
        func reference(_ exact: (values: [Double], magnitudes: [Double]), initial: (Int, Int) -> Float) -> [(value: Double, bound: Double)] {
            let gamma = MatrixProductTests.gamma(k + 1)
            return (0..<(m * n)).map { index in
                let start = Double(initial(index / n, index % n))
                return (start + exact.values[index], gamma * (Swift.abs(start) + exact.magnitudes[index]))
            }
        }

        func multiply(into c: inout [Float], accumulate: Bool, bias: [Float]?, kernels: ComputeKernels,
                      epilogue: ((Range<Int>, Range<Int>) -> Void)? = nil) {
            let hasBias = bias != nil
            let bias = bias ?? []
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    bias.withUnsafeBufferPointer { bias in
                        c.withUnsafeMutableBufferPointer { c in
                            MatrixProduct.multiply(m: m, n: n, k: k, a.baseAddress!, leading: lda, transpose: transposeA,
                                                   b.baseAddress!, leading: ldb, transpose: transposeB,
                                                   into: c.baseAddress!, accumulate: accumulate, bias: hasBias ? bias.baseAddress : nil,
                                                   kernels: kernels, epilogue: epilogue)
                        }
                    }
                }
            }
        }
    }

    var availableKernels: [ComputeKernels] {
        ComputeKernels.allCases.filter(\.isAvailable)
    }

    func assertWithinBound(_ actual: [Float], _ expected: [(value: Double, bound: Double)], _ label: String,
                           file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, label, file: file, line: line)
        for (index, (value, reference)) in zip(actual, expected).enumerated()
        where !(Swift.abs(Double(value) - reference.value) <= reference.bound) {
            XCTFail("\(label): element \(index) = \(value), exact \(reference.value) ± \(reference.bound)", file: file, line: line)
            return
        }
    }

    // MARK: - Values

    func testProduct_overwriteAccumulateAndBias_withinRoundingBound() {
        var data = TestData(seed: 900)
        for kernels in availableKernels {
            for c in Self.cases {
                for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                    let operands = Operands(c, transposeA: transposeA, transposeB: transposeB, padding: 0, using: &data)
                    let label = "\(kernels) \(c.m)×\(c.n)×\(c.k) tA \(transposeA) tB \(transposeB)"
                    let exact = operands.exactProduct()
                    // C = op(A) op(B) into a buffer full of garbage: nothing of it may survive.
                    var c0 = [Float](repeating: .nan, count: c.m * c.n)
                    withThreads(2) { operands.multiply(into: &c0, accumulate: false, bias: nil, kernels: kernels) }
                    assertWithinBound(c0, operands.reference(exact) { _, _ in 0 }, "overwrite, \(label)")
                    // C += op(A) op(B).
                    let start = data.normal([c.m * c.n]).storage
                    var c1 = start
                    withThreads(2) { operands.multiply(into: &c1, accumulate: true, bias: nil, kernels: kernels) }
                    assertWithinBound(c1, operands.reference(exact) { i, j in start[i * c.n + j] }, "accumulate, \(label)")
                    // C = op(A) op(B) + bias on every row.
                    let bias = data.normal([c.n]).storage
                    var c2 = [Float](repeating: .nan, count: c.m * c.n)
                    withThreads(2) { operands.multiply(into: &c2, accumulate: false, bias: bias, kernels: kernels) }
                    assertWithinBound(c2, operands.reference(exact) { _, j in bias[j] }, "bias, \(label)")
                }
            }
        }
    }

    /// Operands with leading dimensions wider than their rows (the padding holds NaN, so
    /// reading it would show).
    func testProduct_subMatricesWithWideLeadingDimensions() {
        var data = TestData(seed: 901)
        for kernels in availableKernels {
            for c in [Case(m: 37, n: 45, k: 300), Case(m: 200, n: 24, k: 19)] {
                for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                    let operands = Operands(c, transposeA: transposeA, transposeB: transposeB, padding: 5, using: &data)
                    var result = [Float](repeating: .nan, count: c.m * c.n)
                    withThreads(2) { operands.multiply(into: &result, accumulate: false, bias: nil, kernels: kernels) }
                    assertWithinBound(result, operands.reference(operands.exactProduct()) { _, _ in 0 }, "\(kernels) \(c) tA \(transposeA) tB \(transposeB)")
                }
            }
        }
    }

    /// k = 0: C = bias (or 0), or C unchanged when accumulating; empty m or n touch nothing.
    func testProduct_emptyDimensions() {
        for kernels in availableKernels {
            let a: [Float] = [1], b: [Float] = [1]
            var c: [Float] = [.nan, .nan, .nan, .nan, .nan, .nan]
            let bias: [Float] = [1, 2, 3]
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        MatrixProduct.multiply(m: 2, n: 3, k: 0, a.baseAddress!, leading: 0, transpose: false,
                                               b.baseAddress!, leading: 3, transpose: false, into: c.baseAddress!,
                                               accumulate: false, bias: bias, kernels: kernels)
                    }
                }
            }
            XCTAssertEqual(c, [1, 2, 3, 1, 2, 3], "\(kernels)")
            c.withUnsafeMutableBufferPointer { c in
                MatrixProduct.multiply(m: 0, n: 3, k: 4, a.withUnsafeBufferPointer { $0.baseAddress! }, leading: 4, transpose: false,
                                       b.withUnsafeBufferPointer { $0.baseAddress! }, leading: 3, transpose: false,
                                       into: c.baseAddress!, accumulate: false, kernels: kernels)
            }
            XCTAssertEqual(c, [1, 2, 3, 1, 2, 3], "m = 0 leaves C alone, \(kernels)")
        }
    }

    // MARK: - Blocking and threads

    /// The packed kernel sums each element in depth order in blocks fixed by k alone: the same
    /// bits for 1, 2 and 3 threads (whose row and column blocks differ).
    func testPackedProduct_sameBitsForEveryThreadCount() throws {
        try XCTSkipUnless(ComputeKernels.avx2Available, "this CPU has no AVX2 + FMA")
        var data = TestData(seed: 902)
        for c in [Case(m: 300, n: 70, k: 600), Case(m: 40, n: 530, k: 72), Case(m: 129, n: 131, k: 513)] {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                let operands = Operands(c, transposeA: transposeA, transposeB: transposeB, padding: 0, using: &data)
                let bias = data.normal([c.n]).storage
                let results = [1, 2, 3].map { threads -> [Float] in
                    var result = [Float](repeating: .nan, count: c.m * c.n)
                    withThreads(threads) { operands.multiply(into: &result, accumulate: false, bias: bias, kernels: .avx2) }
                    return result
                }
                XCTAssertEqual(results[0], results[1], "1 vs 2 threads, \(c) tA \(transposeA) tB \(transposeB)")
                XCTAssertEqual(results[0], results[2], "1 vs 3 threads, \(c) tA \(transposeA) tB \(transposeB)")
            }
        }
    }

    /// The epilogue sees a partition of C — every element in exactly one block — and each block
    /// only after it is final.
    func testProduct_epilogueCoversEveryElementOnceAfterItIsFinal() {
        var data = TestData(seed: 903)
        for kernels in availableKernels {
            for threads in [1, 2] {
                for c in [Case(m: 300, n: 70, k: 600), Case(m: 13, n: 530, k: 72), Case(m: 5, n: 7, k: 3)] {
                    let operands = Operands(c, transposeA: false, transposeB: true, padding: 0, using: &data)
                    var result = [Float](repeating: .nan, count: c.m * c.n)
                    var seen = [Int32](repeating: 0, count: c.m * c.n)
                    var snapshot = [Float](repeating: .nan, count: c.m * c.n)
                    let lock = NSLock()
                    // The epilogue copies its block out as it sees it.
                    withThreads(threads) {
                        result.withUnsafeMutableBufferPointer { buffer in
                            let base = buffer.baseAddress!
                            operands.a.withUnsafeBufferPointer { a in
                                operands.b.withUnsafeBufferPointer { b in
                                    MatrixProduct.multiply(m: c.m, n: c.n, k: c.k, a.baseAddress!, leading: operands.lda, transpose: false,
                                                           b.baseAddress!, leading: operands.ldb, transpose: true,
                                                           into: base, accumulate: false, kernels: kernels) { rows, columns in
                                        lock.lock()
                                        for i in rows {
                                            for j in columns {
                                                seen[i * c.n + j] += 1
                                                snapshot[i * c.n + j] = base[i * c.n + j]
                                            }
                                        }
                                        lock.unlock()
                                    }
                                }
                            }
                        }
                    }
                    XCTAssertEqual(Set(seen), [1], "\(kernels) \(threads)T \(c): every element in one block")
                    XCTAssertEqual(snapshot, result, "\(kernels) \(threads)T \(c): blocks are final when the epilogue sees them")
                }
            }
        }
    }
}
