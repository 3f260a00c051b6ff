import Core
import Foundation
import Tensor
import XCTest

/// The reference kernels (`Reference.c`, ``ComputeKernels/reference``) against the AVX2 ones,
/// bit for bit: the packed product over every edge of the blocking, the fused activations,
/// Adam's update, and whole training steps of a small network through Tensor's API. (A NaN
/// compares by being NaN, not by its payload.) Skipped on CPUs without AVX2 + FMA, where there
/// is nothing to compare with.
final class ReferenceKernelTests: XCTestCase {
    typealias Case = MatrixProductTests.Case

    /// Every edge of the blocking at sizes a scalar kernel runs quickly: m and n off the 6 × 16
    /// tile, k across one, two and three 256-deep blocks (and k = 1), one row or one column,
    /// C taller than wide and wider than tall above the threshold where products are split
    /// (blocks of rows, blocks of columns, more row blocks than threads).
    static let cases: [Case] = [
        Case(m: 1, n: 1, k: 1), Case(m: 6, n: 16, k: 8), Case(m: 7, n: 17, k: 3), Case(m: 5, n: 15, k: 300),
        Case(m: 1, n: 130, k: 70), Case(m: 130, n: 1, k: 70), Case(m: 97, n: 33, k: 257), Case(m: 300, n: 70, k: 64),
        Case(m: 40, n: 530, k: 72), Case(m: 25, n: 35, k: 513), Case(m: 150, n: 20, k: 1),
    ]

    func assertSameBits(_ actual: [Float], _ expected: [Float], _ label: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, label, file: file, line: line)
        for (index, (a, e)) in zip(actual, expected).enumerated()
        where a.bitPattern != e.bitPattern && !(a.isNaN && e.isNaN) {
            XCTFail("\(label): element \(index) = \(a) (\(String(a.bitPattern, radix: 16))), AVX2 \(e) (\(String(e.bitPattern, radix: 16)))",
                    file: file, line: line)
            return
        }
    }

    // MARK: - Product

    /// Overwrite, accumulate into C and bias; all four transposes; 1, 2 and 3 threads; operands
    /// inside wider rows (leading dimensions past the operand, padded with NaN that must never be read).
    func testReferenceProduct_sameBitsAsAVX2ForEveryEdgeTransposeAndThreadCount() throws {
        try XCTSkipUnless(ComputeKernels.avx2Available, "this CPU has no AVX2 + FMA")
        var data = TestData(seed: 950)
        for c in Self.cases {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                let padding = c.m == 97 ? 3 : 0
                let operands = MatrixProductTests.Operands(c, transposeA: transposeA, transposeB: transposeB,
                                                           padding: padding, using: &data)
                let start = data.normal([c.m * c.n]).storage, bias = data.normal([c.n]).storage
                for (accumulate, withBias) in [(false, false), (true, false), (false, true)] {
                    var expected = start
                    withThreads(2) {
                        operands.multiply(into: &expected, accumulate: accumulate, bias: withBias ? bias : nil, kernels: .avx2)
                    }
                    for threads in [1, 2, 3] {
                        var result = start
                        withThreads(threads) {
                            operands.multiply(into: &result, accumulate: accumulate, bias: withBias ? bias : nil, kernels: .reference)
                        }
                        assertSameBits(result, expected, "\(c) tA \(transposeA) tB \(transposeB) accumulate \(accumulate) "
                                       + "bias \(withBias), \(threads) threads")
                    }
                }
            }
        }
    }

    // MARK: - Activations

    /// Values and slopes of every activation over a dense sweep with the clamps, the switch
    /// points and subnormals (ActivationKernelTests' inputs), plus infinities and NaN; counts
    /// that leave the AVX2 loop a tail of 1…7.
    func testReferenceActivations_sameBitsAsAVX2() throws {
        try XCTSkipUnless(ComputeKernels.avx2Available, "this CPU has no AVX2 + FMA")
        var inputs = ActivationKernelTests.inputs
        inputs += [.infinity, -.infinity, .nan, Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude, 1e30, -1e30]
        var generator = RandomGenerator(seed: 951)
        inputs += (0..<10_003).map { _ in Float(generator.nextNormal() * 30) }
        for activation in PointwiseActivation.allCases {
            for count in [inputs.count, 1, 7, 9, 15] {
                let x = Array(inputs.suffix(count))
                let vector = activation.valuesAndSlopes(x, kernels: .avx2)
                let reference = activation.valuesAndSlopes(x, kernels: .reference)
                assertSameBits(reference.values, vector.values, "\(activation) values, \(count)")
                assertSameBits(reference.slopes, vector.slopes, "\(activation) slopes, \(count)")
            }
        }
    }

    // MARK: - Adam

    /// One ``AdamUpdate`` (β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸) of the weights `w`.
    static func adamUpdate(_ gradient: [Float], _ m: inout [Float], _ v: inout [Float], _ w: UnsafeMutableBufferPointer<Float>,
                           scale: Float, stepSize: Float, rootCorrection2: Float, sumOfSquares: Bool, kernels: ComputeKernels) -> Double {
        guard let weights = w.baseAddress else { return 0 }
        return gradient.withUnsafeBufferPointer { g in
            m.withUnsafeMutableBufferPointer { m in
                v.withUnsafeMutableBufferPointer { v in
                    AdamUpdate.apply(count: w.count, gradient: g.baseAddress!, firstMoment: m.baseAddress!, secondMoment: v.baseAddress!,
                                     weights: weights, scale: scale, beta1: 0.9, beta2: 0.999, stepSize: stepSize,
                                     rootCorrection2: rootCorrection2, epsilon: 1e-8, sumOfSquares: sumOfSquares, kernels: kernels)
                }
            }
        }
    }

    /// m, v, w and Σ g² after several updates: sizes around the AVX2 loop's groups of eight,
    /// with and without the sum of squares, a scale other than 1.
    func testReferenceAdam_sameBitsAsAVX2() throws {
        try XCTSkipUnless(ComputeKernels.avx2Available, "this CPU has no AVX2 + FMA")
        for count in [0, 1, 7, 8, 9, 37, 1003] {
            for sumOfSquares in [false, true] {
                var generator = RandomGenerator(seed: 952)
                let start = (0..<count).map { _ in Float(generator.nextNormal()) }
                var states = [ComputeKernels.avx2, .reference].map { _ in (m: [Float](repeating: 0, count: count), v: [Float](repeating: 0, count: count), w: start) }
                for step in 1...4 {
                    let gradient = (0..<count).map { _ in Float(generator.nextNormal() * 3) }
                    let stepSize: Float = 0.003 / (1 - powf(0.9, Float(step))), rootCorrection2 = (1 - powf(0.999, Float(step))).squareRoot()
                    var totals: [Double] = []
                    for (index, kernels) in [ComputeKernels.avx2, .reference].enumerated() {
                        var (m, v, w) = states[index]
                        totals.append(w.withUnsafeMutableBufferPointer { w in
                            Self.adamUpdate(gradient, &m, &v, w, scale: 0.7, stepSize: stepSize, rootCorrection2: rootCorrection2,
                                            sumOfSquares: sumOfSquares, kernels: kernels)
                        })
                        states[index] = (m, v, w)
                    }
                    let label = "n = \(count), sum of squares \(sumOfSquares), step \(step)"
                    XCTAssertEqual(totals[1].bitPattern, totals[0].bitPattern, "Σ g², \(label)")
                    assertSameBits(states[1].m, states[0].m, "m, \(label)")
                    assertSameBits(states[1].v, states[0].v, "v, \(label)")
                    assertSameBits(states[1].w, states[0].w, "w, \(label)")
                }
            }
        }
    }

    // MARK: - Training steps

    func testTrainingSteps_sameBitsUnderReferenceAndAVX2Kernels() throws {
        try XCTSkipUnless(ComputeKernels.avx2Available, "this CPU has no AVX2 + FMA")
        let expected = trainingRun(kernels: .avx2, threads: 1)
        for threads in [1, 2, 3] {
            let result = trainingRun(kernels: .reference, threads: threads)
            assertSameBits(result.losses, expected.losses, "losses, \(threads) threads")
            for (index, (actual, wanted)) in zip(result.parameters, expected.parameters).enumerated() {
                assertSameBits(actual, wanted, "parameter \(index), \(threads) threads")
            }
        }
        // The portable kernels round otherwise: the comparison can tell kernels apart.
        let portable = trainingRun(kernels: .portable, threads: 1)
        XCTAssertNotEqual(portable.parameters[0], expected.parameters[0], "portable kernels give other bits")
    }
}

extension XCTestCase {
    /// Parameters and losses after three steps of a three-layer network through Tensor's API —
    /// fused affine layers with every activation in their epilogue, a plain product, the
    /// backward pass (products with transposes and accumulation, column sums), and Adam's
    /// update — with every operation on the kernels ``ComputeKernels/select(_:)`` chose. (Shared
    /// by ReferenceKernelTests and AVX512KernelTests.)
    func trainingRun(kernels: ComputeKernels, threads: Int) -> (losses: [Float], parameters: [[Float]]) {
        var data = TestData(seed: 953)
        // Sizes at which the forward products and the weight gradients are split over threads.
        let x = data.normal([150, 90])
        func parameter(_ shape: [Int], _ scale: Float) -> Tensor {
            Tensor(parameterShape: shape, storage: data.uniform(shape, -scale, scale).storage)
        }
        let w1 = parameter([64, 90], 0.2), b1 = parameter([64], 0.1)
        let w2 = parameter([50, 64], 0.3), b2 = parameter([50], 0.1)
        let w3 = parameter([50, 50], 0.3), b3 = parameter([50], 0.1)
        let w4 = parameter([50, 19], 0.3)
        let parameters = [w1, b1, w2, b2, w3, b3, w4]
        var moments = parameters.map { (m: [Float](repeating: 0, count: $0.count), v: [Float](repeating: 0, count: $0.count)) }
        let previous = ComputeKernels.current
        ComputeKernels.select(kernels)
        defer { ComputeKernels.select(previous) }
        return withThreads(threads) {
            var losses: [Float] = []
            for step in 1...3 {
                let activations: [PointwiseActivation] = [.silu, .tanh, .softplus, .sigmoid, .relu]
                let h1 = Tensor.affine(x, weight: w1, bias: b1, activation: activations[step % 5])
                let h2 = Tensor.affine(h1, weight: w2, bias: b2, activation: activations[(step + 2) % 5])
                let h3 = Tensor.affine(h2 * h2 + h2, weight: w3, bias: b3, activation: activations[(step + 4) % 5])
                let y = Tensor.matmul(h3, w4)
                let loss = (y * y).sum() + h1.sum()
                losses.append(loss.storage[0])
                loss.backward()
                let stepSize: Float = 0.01 / (1 - powf(0.9, Float(step))), rootCorrection2 = (1 - powf(0.999, Float(step))).squareRoot()
                for (index, p) in parameters.enumerated() {
                    guard let gradient = p.gradient else { continue }
                    var (m, v) = moments[index]
                    p.withMutableStorage { w in
                        _ = ReferenceKernelTests.adamUpdate(gradient, &m, &v, w, scale: 1, stepSize: stepSize, rootCorrection2: rootCorrection2,
                                            sumOfSquares: true, kernels: .current)
                    }
                    moments[index] = (m, v)
                    p.zeroGradient()
                }
            }
            return (losses, parameters.map(\.storage))
        }
    }
}
