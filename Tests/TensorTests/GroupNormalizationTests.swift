import Foundation
import Tensor
import XCTest

/// `Tensor.groupNormalization` against a nested-loop reference in Double, finite differences,
/// and itself on 1, 2 and 3 threads and under the reference kernels.
///
/// Forward tolerance. The engine sums μ and σ² in Double and rounds μ and r = 1/√(σ² + ε) to
/// Float (each within u = 2⁻²⁴ relative), then computes z = (x − μ)·r·γ + β in Float: the
/// rounding of μ moves z by u·|γ|·r·|μ|, the subtraction, the rounding of r and the two
/// products by u·|γ x̂| each, the addition by u·|z| ≤ u(|γ x̂| + |β|) — in all at most
/// 6u·(|γ|(r|μ| + |x̂|) + |β|). The activation's slope is at most 1.1 and its own error 10⁻⁶
/// relative (tanh 2·10⁻⁷ absolute), as in `ConvolutionTests`. Statistics over the wrong
/// elements (a group off by one channel, another example's pixels) move x̂ by ≳ 10⁻²,
/// far outside this bound (≈ 10⁻⁶).
final class GroupNormalizationTests: XCTestCase {
    static let epsilon: Float = 1e-5

    /// y = f(γ (x − μ)/√(σ² + ε) + β) of every element by nested loops in Double, with the
    /// rounding bound of the header, and the pre-activations z.
    static func reference(_ x: Tensor, groups: Int, scale: Tensor, offset: Tensor, activation: PointwiseActivation?)
        -> (values: [Double], bounds: [Double], z: [Double])
    {
        let (n, pixels, c) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
        let width = c / groups
        var values = [Double](repeating: 0, count: x.count), bounds = values, zs = values
        let u = 0x1p-24
        for example in 0..<n {
            for g in 0..<groups {
                var indices: [Int] = []
                for p in 0..<pixels {
                    for e in 0..<width { indices.append((example * pixels + p) * c + g * width + e) }
                }
                let mean = indices.reduce(0.0) { $0 + Double(x.storage[$1]) } / Double(indices.count)
                let variance = indices.reduce(0.0) { $0 + (Double(x.storage[$1]) - mean) * (Double(x.storage[$1]) - mean) }
                    / Double(indices.count)
                let r = 1 / (variance + Double(epsilon)).squareRoot()
                for index in indices {
                    let channel = index % c
                    let gamma = Double(scale.storage[channel]), beta = Double(offset.storage[channel])
                    let normalized = (Double(x.storage[index]) - mean) * r
                    let z = gamma * normalized + beta
                    let y = activation.map { ActivationKernelTests.exact($0, z).0 } ?? z
                    zs[index] = z
                    values[index] = y
                    bounds[index] = 1.1 * 6 * u * (Swift.abs(gamma) * (r * Swift.abs(mean) + Swift.abs(normalized)) + Swift.abs(beta))
                        + 1e-6 * Swift.abs(y) + (activation == .tanh ? 2e-7 : 1e-30)
                }
            }
        }
        return (values, bounds, zs)
    }

    struct Case: CustomStringConvertible {
        let shape: [Int]
        let groups: Int
        var description: String { "x \(shape), \(groups) groups" }
    }

    /// One group, one group per channel, and in between; C = 1; batches of 1 to 3; a mean far
    /// from 0 (x in [2, 4]), where x − μ is small next to μ.
    static let cases: [Case] = [
        Case(shape: [2, 3, 4, 6], groups: 1), Case(shape: [2, 3, 4, 6], groups: 2), Case(shape: [2, 3, 4, 6], groups: 3),
        Case(shape: [2, 3, 4, 6], groups: 6), Case(shape: [1, 5, 5, 4], groups: 4), Case(shape: [3, 2, 2, 8], groups: 2),
        Case(shape: [2, 4, 3, 1], groups: 1),
    ]

    func testForward_matchesNestedLoopsForEveryGroupingWithAndWithoutActivation() {
        var data = TestData(seed: 1300)
        for c in Self.cases {
            for (low, high) in [(Float(-1), Float(1)), (2, 4)] {
                let x = data.uniform(c.shape, low, high)
                let channels = c.shape[3]
                let scale = data.uniform([channels], -1.5, 1.5), offset = data.uniform([channels], -0.5, 0.5)
                for activation in [nil] + PointwiseActivation.allCases as [PointwiseActivation?] {
                    let y = Tensor.groupNormalization(x, groups: c.groups, scale: scale, offset: offset, epsilon: Self.epsilon,
                                                      activation: activation)
                    XCTAssertEqual(y.shape, c.shape)
                    let expected = Self.reference(x, groups: c.groups, scale: scale, offset: offset, activation: activation)
                    for index in 0..<y.count where Swift.abs(Double(y.storage[index]) - expected.values[index]) > expected.bounds[index] {
                        XCTFail("\(c), x in [\(low), \(high)), \(activation?.rawValue ?? "none"): element \(index) = \(y.storage[index]), "
                                + "reference \(expected.values[index]), bound \(expected.bounds[index])")
                        break
                    }
                }
            }
        }
    }

    /// With γ = 1 and β = 0 each (example, group) comes out with mean 0 and variance
    /// σ²/(σ² + ε); constant groups come out as β.
    func testForward_normalizedGroupsHaveZeroMeanAndUnitVariance() {
        var data = TestData(seed: 1301)
        let x = data.uniform([3, 4, 4, 8], -3, 5)
        let y = Tensor.groupNormalization(x, groups: 4, scale: Tensor(repeating: 1, shape: [8]), offset: Tensor(repeating: 0, shape: [8]))
        for example in 0..<3 {
            for g in 0..<4 {
                var values: [Double] = []
                for p in 0..<16 { for e in 0..<2 { values.append(Double(y.storage[(example * 16 + p) * 8 + g * 2 + e])) } }
                let mean = values.reduce(0, +) / 32
                let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 32
                XCTAssertEqual(mean, 0, accuracy: 1e-6)
                XCTAssertEqual(variance, 1, accuracy: 1e-4)
            }
        }
        let constant = Tensor.groupNormalization(Tensor(repeating: 3, shape: [2, 2, 2, 4]), groups: 2,
                                                 scale: Tensor(repeating: 2, shape: [4]), offset: Tensor(shape: [4], storage: [1, 2, 3, 4]))
        XCTAssertEqual(constant.storage, (0..<8).flatMap { _ in [Float(1), 2, 3, 4] })
    }

    // MARK: - Gradients

    /// Inputs for finite differences: x in [−1, 1], γ of either sign, β. For relu, drawn again
    /// until every pre-activation is at least 0.1 from the kink: a step of 10⁻² in x moves x̂ by
    /// at most r·h·(1 + (1 + x̂²)/M) ≲ 0.03 here, so z moves by less than 0.05, and steps in γ
    /// or β by at most h·max(|x̂|, 1) ≲ 0.03.
    static func gradientInputs(_ c: Case, activation: PointwiseActivation?, data: inout TestData) -> [Tensor] {
        for _ in 0..<500 {
            let x = data.uniform(c.shape), scale = data.uniform([c.shape[3]], -1.5, 1.5), offset = data.uniform([c.shape[3]], -0.5, 0.5)
            if activation == .relu {
                let z = reference(x, groups: c.groups, scale: scale, offset: offset, activation: nil).z
                if z.contains(where: { Swift.abs($0) < 0.1 }) { continue }
            }
            return [x, scale, offset]
        }
        preconditionFailure("no inputs away from relu's kink for \(c)")
    }

    func testGradients_matchFiniteDifferencesForEveryInputGroupingAndActivation() {
        var data = TestData(seed: 1310)
        let cases = [Case(shape: [2, 3, 2, 4], groups: 1), Case(shape: [2, 3, 2, 4], groups: 2), Case(shape: [2, 3, 2, 4], groups: 4),
                     Case(shape: [1, 3, 3, 1], groups: 1)]
        for c in cases {
            for activation in [nil, .silu, .tanh] as [PointwiseActivation?] {
                let inputs = Self.gradientInputs(c, activation: activation, data: &data)
                assertGradientsMatch(inputs, "\(c), \(activation?.rawValue ?? "none")") { p in
                    Tensor.groupNormalization(p[0], groups: c.groups, scale: p[1], offset: p[2], epsilon: Self.epsilon, activation: activation)
                }
            }
        }
        // relu: smaller images, so that inputs with every pre-activation away from the kink are common.
        for c in [Case(shape: [1, 2, 3, 4], groups: 1), Case(shape: [1, 2, 3, 4], groups: 2), Case(shape: [1, 2, 3, 4], groups: 4)] {
            let inputs = Self.gradientInputs(c, activation: .relu, data: &data)
            assertGradientsMatch(inputs, "\(c), relu") { p in
                Tensor.groupNormalization(p[0], groups: c.groups, scale: p[1], offset: p[2], epsilon: Self.epsilon, activation: .relu)
            }
        }
    }

    /// x used twice (normalized, and multiplied by its normalization) and γ, β shared by two
    /// normalizations: the gradients add up.
    func testGradients_inputsUsedTwiceAccumulate() {
        var data = TestData(seed: 1311)
        let c = Case(shape: [2, 2, 3, 4], groups: 2)
        let inputs = Self.gradientInputs(c, activation: nil, data: &data)
        assertGradientsMatch(inputs, "two uses") { p in
            Tensor.groupNormalization(p[0], groups: 2, scale: p[1], offset: p[2], activation: .silu) * p[0]
                + Tensor.groupNormalization(p[0] * p[0], groups: 4, scale: p[1], offset: p[2])
        }
    }

    /// Only x trainable, or only γ and β: the others get no gradient, the trainable ones the
    /// same bits as when all are trainable.
    func testGradients_partialInputsGetTheSameGradients() {
        var data = TestData(seed: 1312)
        let x0 = data.uniform([2, 3, 3, 6]), scale0 = data.uniform([6]), offset0 = data.uniform([6])
        let seed = data.normal([2, 3, 3, 6]).storage
        let all = evaluateGradients([x0, scale0, offset0], seed: seed) { p in
            Tensor.groupNormalization(p[0], groups: 3, scale: p[1], offset: p[2], activation: .silu)
        }
        for trainable in [[true, false, false], [false, true, true], [false, false, true]] {
            let inputs = zip([x0, scale0, offset0], trainable).map { t, train in
                train ? Tensor(parameterShape: t.shape, storage: t.storage) : Tensor(shape: t.shape, storage: t.storage)
            }
            Tensor.groupNormalization(inputs[0], groups: 3, scale: inputs[1], offset: inputs[2], activation: .silu).backward(seed: seed)
            for (index, input) in inputs.enumerated() {
                if trainable[index] {
                    assertIdenticalBits(input.gradient ?? [], all.gradients[index], "input \(index) of \(trainable)")
                } else {
                    XCTAssertNil(input.gradient, "input \(index) of \(trainable) is constant")
                }
            }
        }
    }

    // MARK: - Threads and kernels

    /// Sizes at which the examples are shared out over the threads (at least 2 × `minimumChunk`
    /// elements), and one example alone.
    static let threadCases: [(Case, PointwiseActivation?)] = [
        (Case(shape: [4, 16, 16, 48], groups: 8), .silu), (Case(shape: [5, 16, 16, 32], groups: 1), .relu),
        (Case(shape: [3, 16, 16, 48], groups: 48), nil), (Case(shape: [1, 32, 32, 32], groups: 4), .tanh),
    ]

    func testThreads_sameBitsOnOneTwoAndThreeThreads() {
        var data = TestData(seed: 1320)
        for (c, activation) in Self.threadCases {
            XCTAssertGreaterThanOrEqual(c.shape.reduce(1, *), 2 * Parallel.minimumChunk)
            let x = data.uniform(c.shape, -2, 3), scale = data.uniform([c.shape[3]], -1.5, 1.5), offset = data.uniform([c.shape[3]])
            let seed = data.normal(c.shape).storage
            func run(threads: Int) -> Evaluation {
                withThreads(threads) {
                    evaluateGradients([x, scale, offset], seed: seed) { p in
                        Tensor.groupNormalization(p[0], groups: c.groups, scale: p[1], offset: p[2], activation: activation)
                    }
                }
            }
            let one = run(threads: 1)
            for threads in [2, 3] { one.assertIdenticalBits(to: run(threads: threads), label: "\(c), \(threads) threads vs 1") }
        }
    }

    /// Under the reference kernels the fused activation runs in portable C and the loops over
    /// pixels run their baseline build (not the AVX2 one): the AVX2 kernels' bits, with channels
    /// in whole groups of sixteen and with a remainder.
    func testReferenceKernels_sameBitsAsAVX2() throws {
        try XCTSkipUnless(ComputeKernels.avx2Available, "this CPU has no AVX2 + FMA")
        var data = TestData(seed: 1321)
        for (c, activation) in Self.threadCases + [(Case(shape: [3, 5, 7, 20], groups: 4), .softplus), (Case(shape: [2, 3, 3, 7], groups: 7), nil)] {
            let x = data.uniform(c.shape, -2, 3), scale = data.uniform([c.shape[3]], -1.5, 1.5), offset = data.uniform([c.shape[3]])
            let seed = data.normal(c.shape).storage
            func run(_ kernels: ComputeKernels) -> Evaluation {
                let previous = ComputeKernels.current
                ComputeKernels.select(kernels)
                defer { ComputeKernels.select(previous) }
                return withThreads(2) {
                    evaluateGradients([x, scale, offset], seed: seed) { p in
                        Tensor.groupNormalization(p[0], groups: c.groups, scale: p[1], offset: p[2], activation: activation)
                    }
                }
            }
            run(.avx2).assertIdenticalBits(to: run(.reference), label: "\(c), reference kernels")
        }
    }
}
