import Core
import Foundation
import Tensor
import XCTest

/// The AVX-512 kernels (``ComputeKernels/avx512``: the 12 × 32 packed product of
/// `MatrixProductAVX512.c`, the AVX2 loops for the rest) against the reference and AVX2 ones,
/// bit for bit: every element of a product is summed from +0 in depth order with one fused
/// multiply–add per depth in the same blocks of depth, whatever the register tile, so the three
/// agree exactly. Skipped, with the reason, on CPUs without AVX-512F.
final class AVX512KernelTests: XCTestCase {
    typealias Case = MatrixProductTests.Case

    static let noAVX512 = "this CPU has no AVX-512F (or its operating system does not save the ZMM registers)"

    /// Every edge of the 12 × 32 tile and of the blocking around it: m around 12 and its
    /// multiples (11, 13, 23, 25) and past the 144-row block (145, 300); n around 16 and 32 (a
    /// last panel of at most 16 columns runs the half-width kernel) and past the 256-column sweep
    /// (257, 530); k = 1, across one, two and three 256-deep blocks; one row or one column; C
    /// wider than tall above the threshold where blocks of columns are shared out.
    static let cases: [Case] = [
        Case(m: 1, n: 1, k: 1), Case(m: 12, n: 32, k: 8), Case(m: 12, n: 16, k: 9), Case(m: 11, n: 31, k: 3),
        Case(m: 13, n: 33, k: 17), Case(m: 23, n: 17, k: 300), Case(m: 25, n: 48, k: 257), Case(m: 24, n: 64, k: 64),
        Case(m: 1, n: 130, k: 70), Case(m: 130, n: 1, k: 70), Case(m: 145, n: 15, k: 40), Case(m: 97, n: 257, k: 33),
        Case(m: 300, n: 70, k: 64), Case(m: 40, n: 530, k: 72), Case(m: 25, n: 35, k: 513), Case(m: 150, n: 20, k: 1),
    ]

    func assertSameBits(_ actual: [Float], _ expected: [Float], _ label: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, label, file: file, line: line)
        for (index, (a, e)) in zip(actual, expected).enumerated()
        where a.bitPattern != e.bitPattern && !(a.isNaN && e.isNaN) {
            XCTFail("\(label): element \(index) = \(a) (\(String(a.bitPattern, radix: 16))), expected \(e) (\(String(e.bitPattern, radix: 16)))",
                    file: file, line: line)
            return
        }
    }

    /// The kernels this CPU picks by itself: AVX-512 exactly when it has AVX-512F (checked here
    /// against the kernel's own flags on Linux, independently of CPUID and XGETBV).
    func testAutomaticChoice_isAVX512WhenTheCPUHasIt() throws {
        XCTAssertEqual(ComputeKernels.automaticChoice == .avx512, ComputeKernels.avx512Available)
        if !ComputeKernels.avx512Available {
            XCTAssertEqual(ComputeKernels.automaticChoice, ComputeKernels.avx2Available ? .avx2 : .reference)
        }
        XCTAssertEqual(ComputeKernels.avx512.isAvailable, ComputeKernels.avx512Available)
        if let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let flagsLine = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) {
            let flags = Set(flagsLine.split(separator: ":", maxSplits: 1).last?.split(separator: " ").map(String.init) ?? [])
            XCTAssertEqual(ComputeKernels.avx512Available, flags.contains("avx512f") && flags.contains("avx2") && flags.contains("fma"),
                           "tk_cpu_has_avx512f against /proc/cpuinfo's flags")
        }
        if ProcessInfo.processInfo.environment["COMPARE_KERNELS"] == nil {
            XCTAssertEqual(ComputeKernels.current, ComputeKernels.automaticChoice, "no COMPARE_KERNELS: the automatic choice")
        }
    }

    /// Overwrite, accumulate into C and bias; all four transposes; 1, 2 and 3 threads; operands
    /// inside wider rows padded with NaN that must never be read. Reference (scalar C) on 2
    /// threads is the expectation; AVX2 too where the CPU has it.
    func testAVX512Product_sameBitsAsReferenceAndAVX2ForEveryEdgeTransposeAndThreadCount() throws {
        try XCTSkipUnless(ComputeKernels.avx512Available, Self.noAVX512)
        var data = TestData(seed: 960)
        for c in Self.cases {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                let padding = c.m == 97 || c.m == 13 ? 3 : 0
                let operands = MatrixProductTests.Operands(c, transposeA: transposeA, transposeB: transposeB,
                                                           padding: padding, using: &data)
                let start = data.normal([c.m * c.n]).storage, bias = data.normal([c.n]).storage
                for (accumulate, withBias) in [(false, false), (true, false), (false, true)] {
                    let label = "\(c) tA \(transposeA) tB \(transposeB) accumulate \(accumulate) bias \(withBias)"
                    var expected = start
                    withThreads(2) {
                        operands.multiply(into: &expected, accumulate: accumulate, bias: withBias ? bias : nil, kernels: .reference)
                    }
                    if ComputeKernels.avx2Available {
                        var avx2 = start
                        withThreads(2) {
                            operands.multiply(into: &avx2, accumulate: accumulate, bias: withBias ? bias : nil, kernels: .avx2)
                        }
                        assertSameBits(avx2, expected, "AVX2 against reference, \(label)")
                    }
                    for threads in [1, 2, 3] {
                        var result = start
                        withThreads(threads) {
                            operands.multiply(into: &result, accumulate: accumulate, bias: withBias ? bias : nil, kernels: .avx512)
                        }
                        assertSameBits(result, expected, "AVX-512 against reference, \(label), \(threads) threads")
                    }
                }
            }
        }
    }

    /// Larger products, where both ways of splitting C over threads run (blocks of rows with B
    /// shared, blocks of columns with A shared) and the column sweeps of the kernel pass 256:
    /// the same bits on 1, 2 and 3 threads, and the same as AVX2's.
    func testAVX512Product_sameBitsForEveryThreadCountAndAsAVX2() throws {
        try XCTSkipUnless(ComputeKernels.avx512Available, Self.noAVX512)
        var data = TestData(seed: 961)
        for c in [Case(m: 300, n: 70, k: 600), Case(m: 40, n: 530, k: 72), Case(m: 129, n: 131, k: 513), Case(m: 512, n: 600, k: 100)] {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                let operands = MatrixProductTests.Operands(c, transposeA: transposeA, transposeB: transposeB, padding: 0, using: &data)
                let bias = data.normal([c.n]).storage
                let label = "\(c) tA \(transposeA) tB \(transposeB)"
                let results = [1, 2, 3].map { threads -> [Float] in
                    var result = [Float](repeating: .nan, count: c.m * c.n)
                    withThreads(threads) { operands.multiply(into: &result, accumulate: false, bias: bias, kernels: .avx512) }
                    return result
                }
                assertSameBits(results[1], results[0], "2 threads against 1, \(label)")
                assertSameBits(results[2], results[0], "3 threads against 1, \(label)")
                if ComputeKernels.avx2Available {
                    var avx2 = [Float](repeating: .nan, count: c.m * c.n)
                    withThreads(2) { operands.multiply(into: &avx2, accumulate: false, bias: bias, kernels: .avx2) }
                    assertSameBits(results[0], avx2, "AVX-512 against AVX2, \(label)")
                }
            }
        }
    }

    /// Whole training steps of a small network through Tensor's API (`trainingRun`, beside
    /// ReferenceKernelTests: fused affine layers with every activation, transposed and accumulating
    /// products in the backward pass, column sums, Adam) give the same losses and parameters
    /// under the AVX-512 kernels on 1, 2 and 3 threads as under the reference kernels (and AVX2).
    func testTrainingSteps_sameBitsUnderAVX512ReferenceAndAVX2Kernels() throws {
        try XCTSkipUnless(ComputeKernels.avx512Available, Self.noAVX512)
        let expected = trainingRun(kernels: .reference, threads: 1)
        var runs: [(String, (losses: [Float], parameters: [[Float]]))] = [1, 2, 3].map {
            ("AVX-512, \($0) threads", trainingRun(kernels: .avx512, threads: $0))
        }
        if ComputeKernels.avx2Available { runs.append(("AVX2, 2 threads", trainingRun(kernels: .avx2, threads: 2))) }
        for (label, result) in runs {
            assertSameBits(result.losses, expected.losses, "losses, \(label)")
            for (index, (actual, wanted)) in zip(result.parameters, expected.parameters).enumerated() {
                assertSameBits(actual, wanted, "parameter \(index), \(label)")
            }
        }
    }
}
