import Foundation
import Tensor
import XCTest

/// `Tensor.convolution2D` (NHWC, unfolded patches times the weight, fused bias and activation)
/// against a nested-loop reference in Double, finite differences, and itself: on 1, 2 and 3
/// threads, cut into one block of patches or several, under the reference kernels.
///
/// Forward tolerance. Each output is a Float sum of depth = k·k·C_in products plus the bias,
/// computed with fused multiply–adds in some order: whatever the order it is within
/// γ_{depth+1} · (|b| + Σ |w·x|) of the exact value (Higham, §3.1, as in
/// `MatrixProductTests`). The activation's slope is at most 1.1 (silu; relu 1), so that error
/// reaches y at most 1.1 times over, and the fused activation itself is good to 10⁻⁶
/// relative (`ActivationKernelTests`' bound, which covers the final rounding; tanh 2·10⁻⁷ absolute).
/// A patch read from the wrong pixel, a missed zero of the padding or a lost channel changes
/// an output by a whole term |w·x| ≳ 10⁻³ — orders of magnitude outside the bound (≈ 10⁻⁶).
final class ConvolutionTests: XCTestCase {
    // MARK: - Reference

    /// y = f(b + Σ W·x) by nested loops in Double, with Σ |terms| of each output (for the
    /// rounding bound) and the pre-activation z.
    static func reference(
        _ x: Tensor, _ weight: Tensor, _ bias: Tensor, _ geometry: ConvolutionGeometry, _ activation: PointwiseActivation?
    ) -> (shape: [Int], values: [Double], z: [Double], magnitudes: [Double]) {
        let (n, h, w, cin) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let cout = weight.shape[0], k = geometry.kernelSize, s = geometry.stride, p = geometry.padding
        let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
        var values: [Double] = [], zs: [Double] = [], magnitudes: [Double] = []
        for b in 0..<n {
            for i in 0..<ho {
                for j in 0..<wo {
                    for o in 0..<cout {
                        var z = Double(bias.storage[o]), magnitude = Swift.abs(z)
                        for a in 0..<k {
                            for c in 0..<k {
                                let row = i * s - p + a, column = j * s - p + c
                                guard row >= 0, row < h, column >= 0, column < w else { continue }
                                for ci in 0..<cin {
                                    let term = Double(weight.storage[((o * k + a) * k + c) * cin + ci])
                                        * Double(x.storage[((b * h + row) * w + column) * cin + ci])
                                    z += term
                                    magnitude += Swift.abs(term)
                                }
                            }
                        }
                        zs.append(z)
                        magnitudes.append(magnitude)
                        values.append(activation.map { ActivationKernelTests.exact($0, z).0 } ?? z)
                    }
                }
            }
        }
        return ([n, ho, wo, cout], values, zs, magnitudes)
    }

    /// Asserts `y` is the reference convolution within the bound of the header.
    func assertMatchesReference(
        _ y: Tensor, _ x: Tensor, _ weight: Tensor, _ bias: Tensor, _ geometry: ConvolutionGeometry,
        _ activation: PointwiseActivation?, _ label: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        let expected = Self.reference(x, weight, bias, geometry, activation)
        XCTAssertEqual(y.shape, expected.shape, label, file: file, line: line)
        guard y.shape == expected.shape else { return }
        let depth = weight.count / weight.shape[0]
        let gamma = MatrixProductTests.gamma(depth + 1)
        for index in 0..<y.count {
            let exact = expected.values[index]
            let bound = 1.1 * gamma * expected.magnitudes[index] + 1e-6 * Swift.abs(exact) + (activation == .tanh ? 2e-7 : 1e-30)
            let error = Swift.abs(Double(y.storage[index]) - exact)
            if error > bound {
                XCTFail("\(label): element \(index) (\(multiIndex(index, y.shape))) = \(y.storage[index]), reference \(exact), "
                        + "bound \(bound)", file: file, line: line)
                return
            }
        }
    }

    // MARK: - Geometry

    struct Case: CustomStringConvertible {
        let input: [Int]
        let outputChannels: Int
        let geometry: ConvolutionGeometry
        /// The output's height and width.
        let extent: (Int, Int)
        var description: String { "x \(input) → \(outputChannels), \(geometry)" }
    }

    /// Pointwise (the image itself is the patch matrix); 1 × 1 with a stride (through the
    /// unfolding); 3 × 3 size-preserving, downsampling on odd and even extents (7, 14, 28 →
    /// 4, 7, 14) and unpadded; 5 × 5; 2 × 2 and 3 × 3 with stride ≥ kernel − 1; non-square images,
    /// C_in = 1 and C_in > 1, batches of 1 to 3.
    static let cases: [Case] = [
        Case(input: [2, 5, 4, 3], outputChannels: 4, geometry: .pointwise, extent: (5, 4)),
        Case(input: [2, 5, 4, 3], outputChannels: 2, geometry: ConvolutionGeometry(kernelSize: 1, stride: 2), extent: (3, 2)),
        Case(input: [2, 6, 5, 3], outputChannels: 4, geometry: .same3x3, extent: (6, 5)),
        Case(input: [3, 6, 5, 1], outputChannels: 2, geometry: .same3x3, extent: (6, 5)),
        Case(input: [2, 7, 7, 2], outputChannels: 3, geometry: .downsampling3x3, extent: (4, 4)),
        Case(input: [2, 14, 14, 3], outputChannels: 2, geometry: .downsampling3x3, extent: (7, 7)),
        Case(input: [1, 28, 28, 2], outputChannels: 2, geometry: .downsampling3x3, extent: (14, 14)),
        Case(input: [2, 14, 28, 1], outputChannels: 3, geometry: .downsampling3x3, extent: (7, 14)),
        Case(input: [2, 7, 6, 2], outputChannels: 3, geometry: ConvolutionGeometry(kernelSize: 3), extent: (5, 4)),
        Case(input: [1, 9, 8, 3], outputChannels: 2, geometry: ConvolutionGeometry(kernelSize: 5, padding: 2), extent: (9, 8)),
        Case(input: [2, 9, 10, 2], outputChannels: 2, geometry: ConvolutionGeometry(kernelSize: 2, stride: 2), extent: (4, 5)),
        Case(input: [1, 4, 6, 2], outputChannels: 2, geometry: ConvolutionGeometry(kernelSize: 3, stride: 3, padding: 1), extent: (2, 2)),
    ]

    func testOutputExtents_downsamplingHalvesEvenAndRoundsUpOdd() {
        let down = ConvolutionGeometry.downsampling3x3
        XCTAssertEqual([7, 14, 28].map(down.outputExtent), [4, 7, 14])
        XCTAssertEqual([7, 14, 28].map(ConvolutionGeometry.same3x3.outputExtent), [7, 14, 28])
        XCTAssertEqual([7, 14, 28].map(ConvolutionGeometry.pointwise.outputExtent), [7, 14, 28])
        XCTAssertEqual(ConvolutionGeometry(kernelSize: 3).outputExtent(7), 5)
        for extent in [7, 14, 28] {
            let y = Tensor.convolution2D(Tensor(repeating: 1, shape: [1, extent, extent, 1]), weight: Tensor(repeating: 1, shape: [1, 3, 3, 1]),
                                         bias: Tensor(repeating: 0, shape: [1]), geometry: down)
            XCTAssertEqual(y.shape, [1, down.outputExtent(extent), down.outputExtent(extent), 1])
            // The corner output sees the 2 × 2 pixels inside the padding, an inner one all 9.
            XCTAssertEqual(y.storage[0], 4)
            XCTAssertEqual(y.storage[y.shape[2] + 1], 9)
        }
    }

    // MARK: - Forward values

    func testForward_matchesNestedLoopsForEveryGeometryWithAndWithoutActivation() {
        var data = TestData(seed: 1200)
        for c in Self.cases {
            let k = c.geometry.kernelSize
            let x = data.uniform(c.input), bias = data.uniform([c.outputChannels], -0.5, 0.5)
            let weight = data.uniform([c.outputChannels, k, k, c.input[3]])
            for activation in [nil, .silu, .relu] as [PointwiseActivation?] {
                let y = Tensor.convolution2D(x, weight: weight, bias: bias, geometry: c.geometry, activation: activation)
                XCTAssertEqual(Array(y.shape[1...2]), [c.extent.0, c.extent.1], "\(c)")
                assertMatchesReference(y, x, weight, bias, c.geometry, activation, "\(c), \(activation?.rawValue ?? "none")")
            }
        }
    }

    func testForward_everyActivationMatchesNestedLoops() {
        var data = TestData(seed: 1201)
        let x = data.uniform([2, 6, 5, 3]), weight = data.uniform([4, 3, 3, 3]), bias = data.uniform([4], -0.5, 0.5)
        for activation in PointwiseActivation.allCases {
            for geometry in [ConvolutionGeometry.same3x3, .downsampling3x3] {
                let y = Tensor.convolution2D(x, weight: weight, bias: bias, geometry: geometry, activation: activation)
                assertMatchesReference(y, x, weight, bias, geometry, activation, "\(geometry), \(activation)")
            }
        }
    }

    /// Recording or not, the same values; a fused activation equals the plain convolution
    /// followed by the activation, bit for bit (the same Float operations).
    func testForward_fusedActivationEqualsConvolutionThenActivation() {
        var data = TestData(seed: 1202)
        let x = data.uniform([2, 7, 6, 3]), weight = data.uniform([5, 3, 3, 3]), bias = data.uniform([5], -0.5, 0.5)
        for geometry in [ConvolutionGeometry.same3x3, .downsampling3x3, .pointwise] {
            let w = geometry.kernelSize == 1 ? data.uniform([5, 1, 1, 3]) : weight
            let plain = Tensor.convolution2D(x, weight: w, bias: bias, geometry: geometry)
            for activation in PointwiseActivation.allCases {
                let fused = Tensor.convolution2D(x, weight: w, bias: bias, geometry: geometry, activation: activation)
                let separate = PerformancePathTests.apply(activation, plain)
                assertIdenticalBits(fused.storage, separate.storage, "\(geometry), \(activation)")
                let parameter = Tensor(parameterShape: x.shape, storage: x.storage)
                let recorded = Tensor.convolution2D(parameter, weight: w, bias: bias, geometry: geometry, activation: activation)
                XCTAssertTrue(recorded.requiresGradient)
                assertIdenticalBits(recorded.storage, fused.storage, "recorded, \(geometry), \(activation)")
            }
        }
    }

    // MARK: - Concatenation along channels

    /// The skip connection of a U-Net: images joined along axis 3 of NHWC, then convolved.
    func testConcatenationAlongChannels_valuesAndConvolutionOfTheJoinedImage() {
        var data = TestData(seed: 1203)
        let a = data.uniform([2, 4, 5, 3]), b = data.uniform([2, 4, 5, 2])
        let joined = Tensor.concatenate([a, b], axis: 3)
        XCTAssertEqual(joined.shape, [2, 4, 5, 5])
        for pixel in 0..<(2 * 4 * 5) {
            for channel in 0..<5 {
                let expected = channel < 3 ? a.storage[pixel * 3 + channel] : b.storage[pixel * 2 + channel - 3]
                XCTAssertEqual(joined.storage[pixel * 5 + channel].bitPattern, expected.bitPattern)
            }
        }
        XCTAssertEqual(Tensor.concatenate([a, b], axis: -1).storage, joined.storage)
        let weight = data.uniform([3, 3, 3, 5]), bias = data.uniform([3], -0.5, 0.5)
        let y = Tensor.convolution2D(joined, weight: weight, bias: bias, geometry: .same3x3, activation: .silu)
        assertMatchesReference(y, joined, weight, bias, .same3x3, .silu, "convolution of the joined channels")
        assertGradientsMatch([a, b, weight, bias], "concatenate then convolve") { p in
            Tensor.convolution2D(Tensor.concatenate([p[0], p[1]], axis: 3), weight: p[2], bias: p[3], geometry: .same3x3,
                                 activation: .silu)
        }
    }

    // MARK: - Gradients against finite differences

    /// Small cases for finite differences (each element of each input costs two forward passes).
    static let gradientCases: [Case] = [
        Case(input: [2, 3, 3, 3], outputChannels: 4, geometry: .pointwise, extent: (3, 3)),
        Case(input: [2, 5, 5, 2], outputChannels: 3, geometry: ConvolutionGeometry(kernelSize: 1, stride: 2), extent: (3, 3)),
        Case(input: [2, 4, 5, 2], outputChannels: 3, geometry: .same3x3, extent: (4, 5)),
        Case(input: [1, 5, 6, 2], outputChannels: 2, geometry: .downsampling3x3, extent: (3, 3)),
        Case(input: [1, 5, 4, 1], outputChannels: 2, geometry: ConvolutionGeometry(kernelSize: 3), extent: (3, 2)),
        Case(input: [2, 3, 4, 1], outputChannels: 2, geometry: .same3x3, extent: (3, 4)),
    ]

    /// Inputs of `c` in [−1, 1]; for relu, drawn again until every pre-activation is at least
    /// 0.03 from the kink: a step of 10⁻² moves an output by at most 10⁻² (|w|, |x| ≤ 1, one
    /// term per input element), so no finite difference straddles it.
    static func gradientInputs(_ c: Case, activation: PointwiseActivation?, data: inout TestData) -> [Tensor] {
        let k = c.geometry.kernelSize
        for _ in 0..<200 {
            let x = data.uniform(c.input), weight = data.uniform([c.outputChannels, k, k, c.input[3]])
            let bias = data.uniform([c.outputChannels], -0.5, 0.5)
            if activation == .relu {
                let z = reference(x, weight, bias, c.geometry, nil).z
                if z.contains(where: { Swift.abs($0) < 0.03 }) { continue }
            }
            return [x, weight, bias]
        }
        preconditionFailure("no inputs away from relu's kink for \(c)")
    }

    func testGradients_matchFiniteDifferencesForEveryInputGeometryAndActivation() {
        var data = TestData(seed: 1210)
        for c in Self.gradientCases {
            for activation in [nil, .silu, .relu] as [PointwiseActivation?] {
                let inputs = Self.gradientInputs(c, activation: activation, data: &data)
                assertGradientsMatch(inputs, "\(c), \(activation?.rawValue ?? "none")") { p in
                    Tensor.convolution2D(p[0], weight: p[1], bias: p[2], geometry: c.geometry, activation: activation)
                }
            }
        }
    }

    func testGradients_everyActivationMatchesFiniteDifferences() {
        var data = TestData(seed: 1211)
        let c = Self.gradientCases[3]
        for activation in PointwiseActivation.allCases {
            let inputs = Self.gradientInputs(c, activation: activation, data: &data)
            assertGradientsMatch(inputs, "\(c), \(activation)") { p in
                Tensor.convolution2D(p[0], weight: p[1], bias: p[2], geometry: c.geometry, activation: activation)
            }
        }
    }

    /// Only some inputs trainable: the others get no gradient, the trainable ones the same bits
    /// as when all are trainable.
    func testGradients_partialInputsGetTheSameGradients() {
        var data = TestData(seed: 1212)
        let x0 = data.uniform([2, 5, 6, 3]), w0 = data.uniform([4, 3, 3, 3]), b0 = data.uniform([4])
        let seed = data.normal([2, 3, 3, 4]).storage
        let all = evaluateGradients([x0, w0, b0], seed: seed) { p in
            Tensor.convolution2D(p[0], weight: p[1], bias: p[2], geometry: .downsampling3x3, activation: .silu)
        }
        for trainable in [[true, false, false], [false, true, false], [false, false, true], [true, true, false], [false, true, true]] {
            let inputs = zip([x0, w0, b0], trainable).map { t, train in
                train ? Tensor(parameterShape: t.shape, storage: t.storage) : Tensor(shape: t.shape, storage: t.storage)
            }
            let y = Tensor.convolution2D(inputs[0], weight: inputs[1], bias: inputs[2], geometry: .downsampling3x3, activation: .silu)
            y.backward(seed: seed)
            for (index, input) in inputs.enumerated() {
                if trainable[index] {
                    assertIdenticalBits(input.gradient ?? [], all.gradients[index], "input \(index) of \(trainable)")
                } else {
                    XCTAssertNil(input.gradient, "input \(index) of \(trainable) is constant")
                }
            }
        }
        // Nothing recorded: no gradient, the same values.
        let unrecorded = GradientMode.withoutRecording {
            Tensor.convolution2D(Tensor(parameterShape: x0.shape, storage: x0.storage), weight: w0, bias: b0,
                                 geometry: .downsampling3x3, activation: .silu)
        }
        XCTAssertFalse(unrecorded.requiresGradient)
        assertIdenticalBits(unrecorded.storage, all.values, "unrecorded")
    }

    // MARK: - Accumulation

    /// x and W feed two convolutions (x also through x ⊙ x): their gradients add up.
    func testGradients_inputsUsedTwiceAccumulate() {
        var data = TestData(seed: 1220)
        let x = data.uniform([2, 4, 5, 2]), weight = data.uniform([3, 3, 3, 2])
        let b1 = data.uniform([3], -0.5, 0.5), b2 = data.uniform([3], -0.5, 0.5)
        assertGradientsMatch([x, weight, b1, b2], "two uses") { p in
            Tensor.convolution2D(p[0], weight: p[1], bias: p[2], geometry: .same3x3, activation: .silu)
                * Tensor.convolution2D(p[0] * p[0], weight: p[1], bias: p[3], geometry: .same3x3)
        }
        assertGradientsMatch([x, Tensor(shape: [3, 1, 1, 2], storage: Array(weight.storage.prefix(6))), b1], "pointwise, two uses") { p in
            Tensor.convolution2D(p[0], weight: p[1], bias: p[2], geometry: .pointwise, activation: .silu)
                + Tensor.convolution2D(p[0], weight: p[1], bias: p[2], geometry: .pointwise, activation: .tanh)
        }
        // Two backward passes through the same parameters: twice one pass's gradients (to
        // rounding: the second pass adds each term onto the first pass's sums).
        for geometry in [ConvolutionGeometry.same3x3, .pointwise] {
            let w = geometry.kernelSize == 1 ? Tensor(shape: [3, 1, 1, 2], storage: Array(weight.storage.prefix(6))) : weight
            let seed = data.normal([2, 4, 5, 3]).storage
            let once = evaluateGradients([x, w, b1], seed: seed) { p in
                Tensor.convolution2D(p[0], weight: p[1], bias: p[2], geometry: geometry, activation: .silu)
            }
            let parameters = [x, w, b1].map { Tensor(parameterShape: $0.shape, storage: $0.storage) }
            for _ in 0..<2 {
                Tensor.convolution2D(parameters[0], weight: parameters[1], bias: parameters[2], geometry: geometry, activation: .silu)
                    .backward(seed: seed)
            }
            for (index, parameter) in parameters.enumerated() {
                assertClose(parameter.gradient ?? [], once.gradients[index].map { 2 * Double($0) }, rtol: 1e-6, atol: 1e-6,
                            "input \(index), \(geometry), two passes")
            }
        }
    }

    // MARK: - Blocks of patches

    /// Values and gradients of one evaluation with `patchBlockElements` set to `elements`.
    func withPatchBlock<R>(_ elements: Int, _ body: () throws -> R) rethrows -> R {
        let previous = Tensor.patchBlockElements
        Tensor.patchBlockElements = elements
        defer { Tensor.patchBlockElements = previous }
        return try body()
    }

    /// Patches cut into blocks (block edges inside images, a short last block) give the same
    /// values, dx and db as one block, bit for bit: each output row and each row of dz W is
    /// computed alone, and dx adds the rows of each image in order whatever the blocks. dW is
    /// Σ over blocks of dzᵀ P: with 2304 rows and blocks of 512 — whole 256-deep blocks of the
    /// product — the very same partial sums, so the same bits; with blocks of 100 rows the sums
    /// are grouped otherwise, and dW agrees with the Double reference within the rounding
    /// bound of a sum of `rows` terms.
    func testPatchBlocks_severalBlocksGiveTheSingleBlockResult() {
        var data = TestData(seed: 1230)
        let x = data.uniform([16, 12, 12, 4]), weight = data.uniform([8, 3, 3, 4]), bias = data.uniform([8], -0.5, 0.5)
        let depth = 3 * 3 * 4, rows = 16 * 12 * 12
        XCTAssertEqual(rows % 256, 0)
        let seed = data.normal([16, 12, 12, 8]).storage
        func run(_ activation: PointwiseActivation?) -> Evaluation {
            evaluateGradients([x, weight, bias], seed: seed) { p in
                Tensor.convolution2D(p[0], weight: p[1], bias: p[2], geometry: .same3x3, activation: activation)
            }
        }
        for activation in [nil, .silu] as [PointwiseActivation?] {
            let single = withPatchBlock(1 << 40) { run(activation) }
            for threads in [1, 2] {
                let label = "\(activation?.rawValue ?? "none"), \(threads) threads"
                let blocked = withThreads(threads) { withPatchBlock(600 * depth) { run(activation) } }
                single.assertIdenticalBits(to: blocked, label: "blocks of 512 rows, \(label)")
                let small = withThreads(threads) { withPatchBlock(100 * depth) { run(activation) } }
                assertIdenticalBits(small.values, single.values, "values, blocks of 100 rows, \(label)")
                assertIdenticalBits(small.gradients[0], single.gradients[0], "dx, blocks of 100 rows, \(label)")
                assertIdenticalBits(small.gradients[2], single.gradients[2], "db, blocks of 100 rows, \(label)")
                if activation == nil {
                    let exact = Self.weightGradient(x, seed: seed, outputChannels: 8, geometry: .same3x3)
                    let gamma = MatrixProductTests.gamma(rows)
                    for (index, (blockedValue, singleValue)) in zip(small.gradients[1], single.gradients[1]).enumerated() {
                        let bound = gamma * exact.magnitudes[index]
                        XCTAssertLessThanOrEqual(Swift.abs(Double(blockedValue) - exact.values[index]), bound, "dW[\(index)], blocks of 100")
                        XCTAssertLessThanOrEqual(Swift.abs(Double(singleValue) - exact.values[index]), bound, "dW[\(index)], one block")
                    }
                } else {
                    assertClose(small.gradients[1], single.gradients[1].map(Double.init), rtol: 1e-5, atol: 1e-4, "dW, \(label)")
                }
            }
        }
        // A strided convolution whose blocks of 60 rows end inside images of 49 output pixels.
        let x2 = data.uniform([8, 14, 14, 3]), w2 = data.uniform([5, 3, 3, 3]), b2 = data.uniform([5])
        let seed2 = data.normal([8, 7, 7, 5]).storage
        func run2() -> Evaluation {
            evaluateGradients([x2, w2, b2], seed: seed2) { p in
                Tensor.convolution2D(p[0], weight: p[1], bias: p[2], geometry: .downsampling3x3, activation: .relu)
            }
        }
        let single = withPatchBlock(1 << 40) { run2() }
        let blocked = withPatchBlock(60 * 27) { run2() }
        assertIdenticalBits(blocked.values, single.values, "strided, values")
        assertIdenticalBits(blocked.gradients[0], single.gradients[0], "strided, dx")
        assertIdenticalBits(blocked.gradients[2], single.gradients[2], "strided, db")
        assertClose(blocked.gradients[1], single.gradients[1].map(Double.init), rtol: 1e-5, atol: 1e-4, "strided, dW")
    }

    /// dW[o, a, c, ci] = Σ_{n, i, j} dy[n, i, j, o] · x[n, s·i − p + a, s·j − p + c, ci] in Double,
    /// with Σ |terms|.
    static func weightGradient(_ x: Tensor, seed: [Float], outputChannels cout: Int, geometry: ConvolutionGeometry)
        -> (values: [Double], magnitudes: [Double])
    {
        let (n, h, w, cin) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let k = geometry.kernelSize, s = geometry.stride, p = geometry.padding
        let ho = geometry.outputExtent(h), wo = geometry.outputExtent(w)
        var values = [Double](repeating: 0, count: cout * k * k * cin), magnitudes = values
        for b in 0..<n {
            for i in 0..<ho {
                for j in 0..<wo {
                    for a in 0..<k {
                        for c in 0..<k {
                            let row = i * s - p + a, column = j * s - p + c
                            guard row >= 0, row < h, column >= 0, column < w else { continue }
                            for o in 0..<cout {
                                let d = Double(seed[((b * ho + i) * wo + j) * cout + o])
                                for ci in 0..<cin {
                                    let term = d * Double(x.storage[((b * h + row) * w + column) * cin + ci])
                                    values[((o * k + a) * k + c) * cin + ci] += term
                                    magnitudes[((o * k + a) * k + c) * cin + ci] += Swift.abs(term)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (values, magnitudes)
    }

    // MARK: - Threads

    /// Sizes at which the products are split over threads (more multiply–adds than
    /// `parallelProductThreshold`), the unfolding too (more than 2 × `minimumChunk` values of
    /// patches per block), and the folding of dx (several images per block); one of them cut
    /// into several blocks of patches.
    static let threadCases: [(Case, PointwiseActivation?, blockElements: Int)] = [
        (Case(input: [4, 14, 14, 16], outputChannels: 32, geometry: .same3x3, extent: (14, 14)), .silu, 1 << 21),
        (Case(input: [4, 14, 14, 32], outputChannels: 32, geometry: .downsampling3x3, extent: (7, 7)), .relu, 1 << 21),
        (Case(input: [4, 14, 14, 64], outputChannels: 48, geometry: .pointwise, extent: (14, 14)), nil, 1 << 21),
        (Case(input: [4, 14, 14, 16], outputChannels: 32, geometry: .same3x3, extent: (14, 14)), .silu, 300 * 144),
    ]

    func testThreads_sameBitsOnOneTwoAndThreeThreads() {
        var data = TestData(seed: 1240)
        for (c, activation, blockElements) in Self.threadCases {
            let k = c.geometry.kernelSize, cin = c.input[3]
            let rows = c.input[0] * c.extent.0 * c.extent.1, depth = k * k * cin
            XCTAssertGreaterThanOrEqual(rows * depth * c.outputChannels, LinearAlgebra.parallelProductThreshold, "\(c)")
            if k > 1 { XCTAssertGreaterThanOrEqual(Swift.min(rows, blockElements / depth) * depth, 2 * Parallel.minimumChunk, "\(c)") }
            let x = data.uniform(c.input), weight = data.uniform([c.outputChannels, k, k, cin], -0.2, 0.2)
            let bias = data.uniform([c.outputChannels], -0.5, 0.5)
            let seed = data.normal([c.input[0], c.extent.0, c.extent.1, c.outputChannels]).storage
            func run(threads: Int) -> Evaluation {
                withThreads(threads) {
                    withPatchBlock(blockElements) {
                        evaluateGradients([x, weight, bias], seed: seed) { p in
                            Tensor.convolution2D(p[0], weight: p[1], bias: p[2], geometry: c.geometry, activation: activation)
                        }
                    }
                }
            }
            let one = run(threads: 1)
            for threads in [2, 3] {
                one.assertIdenticalBits(to: run(threads: threads), label: "\(c), \(threads) threads vs 1")
            }
        }
    }

    // MARK: - Reference kernels

    /// The portable C product and activations give the AVX2 kernels' bits for the whole
    /// convolution, forward and backward, on 1 and 2 threads (the choice of kernels is global:
    /// selected and restored as in `ReferenceKernelTests`).
    func testReferenceKernels_sameBitsAsAVX2() throws {
        try XCTSkipUnless(ComputeKernels.avx2Available, "this CPU has no AVX2 + FMA")
        var data = TestData(seed: 1250)
        let cases: [(Case, PointwiseActivation?, blockElements: Int)] = Array(Self.threadCases.prefix(3)) + [
            (Case(input: [2, 7, 6, 3], outputChannels: 5, geometry: .same3x3, extent: (7, 6)), .tanh, 1 << 21),
            (Case(input: [2, 7, 6, 3], outputChannels: 5, geometry: .downsampling3x3, extent: (4, 3)), .sigmoid, 30 * 27),
        ]
        for (c, activation, blockElements) in cases {
            let k = c.geometry.kernelSize, cin = c.input[3]
            let x = data.uniform(c.input), weight = data.uniform([c.outputChannels, k, k, cin], -0.2, 0.2)
            let bias = data.uniform([c.outputChannels], -0.5, 0.5)
            let seed = data.normal([c.input[0], c.extent.0, c.extent.1, c.outputChannels]).storage
            func run(_ kernels: ComputeKernels, threads: Int) -> Evaluation {
                let previous = ComputeKernels.current
                ComputeKernels.select(kernels)
                defer { ComputeKernels.select(previous) }
                return withThreads(threads) {
                    withPatchBlock(blockElements) {
                        evaluateGradients([x, weight, bias], seed: seed) { p in
                            Tensor.convolution2D(p[0], weight: p[1], bias: p[2], geometry: c.geometry, activation: activation)
                        }
                    }
                }
            }
            let expected = run(.avx2, threads: 2)
            for threads in [1, 2] {
                expected.assertIdenticalBits(to: run(.reference, threads: threads), label: "\(c), reference on \(threads) threads")
            }
        }
    }

    // MARK: - Preconditions that are cheap to get wrong

    /// An empty batch: an empty output, and zero gradients for the weight and bias.
    func testEmptyBatch_givesZeroWeightGradient() {
        let x = Tensor(parameterShape: [0, 5, 5, 2], storage: [])
        let weight = Tensor(parameterShape: [3, 3, 3, 2], storage: [Float](repeating: 1, count: 54))
        let bias = Tensor(parameterShape: [3], storage: [1, 2, 3])
        let y = Tensor.convolution2D(x, weight: weight, bias: bias, geometry: .same3x3, activation: .silu)
        XCTAssertEqual(y.shape, [0, 5, 5, 3])
        y.backward(seed: [])
        XCTAssertEqual(weight.gradient, [Float](repeating: 0, count: 54))
        XCTAssertEqual(bias.gradient, [0, 0, 0])
        XCTAssertEqual(x.gradient ?? [], [])
    }
}

// MARK: - Shared helpers (convolution, group normalization and resampling tests)

/// The values of one recorded evaluation and the gradients of each of its inputs.
struct Evaluation {
    var values: [Float]
    var gradients: [[Float]]

    func assertIdenticalBits(to other: Evaluation, label: String, file: StaticString = #filePath, line: UInt = #line) {
        TensorTests.assertIdenticalBits(other.values, values, "values, \(label)", file: file, line: line)
        XCTAssertEqual(other.gradients.count, gradients.count, label, file: file, line: line)
        for (index, (a, b)) in zip(other.gradients, gradients).enumerated() {
            TensorTests.assertIdenticalBits(a, b, "gradient of input \(index), \(label)", file: file, line: line)
        }
    }
}

/// Runs `function` on fresh parameters holding `inputs`' values, back-propagates `seed` and
/// returns the output values and each input's gradient (empty when none reached it).
func evaluateGradients(_ inputs: [Tensor], seed: [Float], _ function: ([Tensor]) -> Tensor) -> Evaluation {
    let parameters = inputs.map { Tensor(parameterShape: $0.shape, storage: $0.storage) }
    let output = function(parameters)
    output.backward(seed: seed)
    return Evaluation(values: output.storage, gradients: parameters.map { $0.gradient ?? [] })
}

/// Asserts two buffers hold the same bits (NaN matches NaN).
func assertIdenticalBits(_ actual: [Float], _ expected: [Float], _ label: String,
                         file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, label, file: file, line: line)
    for (index, (a, e)) in zip(actual, expected).enumerated() where a.bitPattern != e.bitPattern && !(a.isNaN && e.isNaN) {
        XCTFail("\(label): element \(index) = \(a), expected \(e)", file: file, line: line)
        return
    }
}
