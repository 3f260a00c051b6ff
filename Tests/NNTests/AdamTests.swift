import Core
import Foundation
import NN
import Tensor
import XCTest

final class AdamTests: XCTestCase {
    /// f(w) = Σ aᵢ (wᵢ − cᵢ)² as a tensor expression.
    static func quadratic(_ w: Tensor, a: [Float], c: [Float]) -> Tensor {
        let n = a.count
        return (Tensor(shape: [n], storage: a) * (w - Tensor(shape: [n], storage: c)).squared()).sum()
    }

    func testAdam_minimizesAQuadratic() {
        let a: [Float] = [1, 10, 0.1, 3, 0.5]
        let c: [Float] = [1, -2, 0.5, 3, -0.25]
        let w = Tensor(parameterShape: [5], storage: [0, 0, 0, 0, 0])
        let adam = Adam(parameters: [("w", w)], learningRate: 0.1)
        let initial = Self.quadratic(w, a: a, c: c).scalar
        XCTAssertGreaterThan(initial, 10)
        for step in 0..<3000 {
            // A step decay: Adam's steps are ~lr near the optimum, so the rate must shrink.
            adam.learningRate = 0.1 * powf(0.1, Float(step / 600))
            Self.quadratic(w, a: a, c: c).backward()
            adam.update()
        }
        let final = zip(zip(a, c), w.storage).reduce(0.0) { total, term in
            let ((ai, ci), wi) = term
            return total + Double(ai) * pow(Double(wi) - Double(ci), 2)
        }
        XCTAssertLessThanOrEqual(final, 1e-6, "f(w) = \(final) at w = \(w.storage)")
        XCTAssertEqual(adam.step, 3000)
    }

    /// PyTorch's first step: m = (1 − β₁) g, v = (1 − β₂) g², so m̂ = g and √v̂ = |g|, and
    /// w₁ = w₀ − lr · g / (|g| + ε) = w₀ − lr · sign(g) whatever the magnitude of g.
    func testAdam_firstUpdateIsLearningRateTimesSignOfGradient() {
        let start: [Float] = [0.5, -1, 2, 0, 3, -4]
        let gradient: [Float] = [1e-3, -2, 5e2, -0.25, 1, -1e-2]
        let w = Tensor(parameterShape: [6], storage: start)
        let adam = Adam(parameters: [("w", w)], learningRate: 0.01)
        w.accumulateGradient(gradient, shape: [6])
        adam.update()
        for i in 0..<6 {
            let expected = Double(start[i]) - 0.01 * (gradient[i] > 0 ? 1 : -1)
            XCTAssertEqual(Double(w.storage[i]), expected, accuracy: 1e-6, "element \(i)")
        }
        XCTAssertNil(w.gradient, "update clears the gradients")
        XCTAssertEqual(adam.step, 1)
    }

    /// Ten steps against an independent Double implementation of
    /// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², w ← w − lr m̂ / (√v̂ + ε), m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ),
    /// through every kernel (the AVX2 loop takes eight values at a time, then the rest one by one:
    /// sizes 7, 8 and 37 cover both parts), with and without clipping; the returned norm is the
    /// gradient's own.
    func testAdam_matchesReferenceImplementationOverSeveralSteps() {
        let kernelSets: [ComputeKernels] = ComputeKernels.allCases.filter(\.isAvailable)
        for kernels in kernelSets {
            for n in [7, 8, 37] {
                for clip in [nil, Float(2)] {
                    var generator = RandomGenerator(seed: 21)
                    let start = (0..<n).map { _ in Float(generator.nextNormal()) }
                    let w = Tensor(parameterShape: [n], storage: start)
                    let lr = 0.003, b1 = 0.8, b2 = 0.99, eps = 1e-6
                    let adam = Adam(parameters: [("w", w)], learningRate: Float(lr), beta1: Float(b1), beta2: Float(b2),
                                    epsilon: Float(eps), maximumGradientNorm: clip)
                    var rw = start.map(Double.init), m = [Double](repeating: 0, count: n), v = m
                    let label = "\(kernels), n = \(n), clip \(clip.map { "\($0)" } ?? "none")"
                    for t in 1...10 {
                        let g = (0..<n).map { _ in Float(generator.nextNormal() * 3) }
                        w.accumulateGradient(g, shape: [n])
                        let norm = adam.update(kernels: kernels)
                        let exactNorm = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                        XCTAssertEqual(norm, exactNorm, accuracy: 1e-12 * exactNorm, "norm, \(label)")
                        let scale = clip.map { exactNorm > Double($0) ? Double($0) / exactNorm : 1 } ?? 1
                        for i in 0..<n {
                            let gi = Double(g[i]) * scale
                            m[i] = b1 * m[i] + (1 - b1) * gi
                            v[i] = b2 * v[i] + (1 - b2) * gi * gi
                            let mHat = m[i] / (1 - pow(b1, Double(t))), vHat = v[i] / (1 - pow(b2, Double(t)))
                            rw[i] -= lr * mHat / (vHat.squareRoot() + eps)
                        }
                        assertClose(w.storage, rw, rtol: 1e-5, atol: 1e-6, "step \(t), \(label)")
                        assertClose(adam.firstMoments["w"] ?? [], m, rtol: 1e-5, atol: 1e-7, "m at step \(t), \(label)")
                        assertClose(adam.secondMoments["w"] ?? [], v, rtol: 1e-5, atol: 1e-7, "v at step \(t), \(label)")
                    }
                }
            }
        }
    }

    /// The reference kernel (portable C) gives the AVX2 kernel's bits: weights, moments and the
    /// returned norm over several steps, with and without clipping, parameters of sizes around
    /// the AVX2 loop's groups of eight, shared out over threads.
    func testAdam_referenceKernelGivesTheAVX2Bits() throws {
        try XCTSkipUnless(ComputeKernels.avx2Available, "this CPU has no AVX2 + FMA")
        for clip in [nil, Float(2)] {
            let runs = [ComputeKernels.avx2, .reference].map { kernels -> (norms: [Double], weights: [[Float]], v: [String: [Float]]) in
                var generator = RandomGenerator(seed: 22)
                let sizes = [7, 8, 37, 20_000, 15_001]
                let parameters = sizes.enumerated().map { index, n in
                    (key: "p\(index)", tensor: Tensor(parameterShape: [n], storage: (0..<n).map { _ in Float(generator.nextNormal()) }))
                }
                let adam = Adam(parameters: parameters, learningRate: 0.003, maximumGradientNorm: clip)
                var norms: [Double] = []
                let threads = LinearAlgebra.threadCount
                LinearAlgebra.setThreadCount(2)
                defer { LinearAlgebra.setThreadCount(threads) }
                for _ in 1...5 {
                    for (_, p) in parameters { p.accumulateGradient((0..<p.count).map { _ in Float(generator.nextNormal()) }, shape: [p.count]) }
                    norms.append(adam.update(kernels: kernels))
                }
                return (norms, parameters.map(\.tensor.storage), adam.secondMoments)
            }
            let label = "clip \(clip.map { "\($0)" } ?? "none")"
            XCTAssertEqual(runs[1].norms.map(\.bitPattern), runs[0].norms.map(\.bitPattern), "norms, \(label)")
            XCTAssertEqual(runs[1].weights.map { $0.map(\.bitPattern) }, runs[0].weights.map { $0.map(\.bitPattern) }, "weights, \(label)")
            XCTAssertEqual(runs[1].v.mapValues { $0.map(\.bitPattern) }, runs[0].v.mapValues { $0.map(\.bitPattern) }, "v, \(label)")
        }
    }

    func testAdam_gradientNormClippingScalesTheGradient() {
        let w = Tensor(parameterShape: [2], storage: [0, 0])
        let u = Tensor(parameterShape: [2], storage: [1, 1])
        let adam = Adam(parameters: [("w", w), ("u", u)], learningRate: 0.1, maximumGradientNorm: 1)
        // Global norm √(3² + 4² + 0² + 12²) = 13 over both parameters.
        w.accumulateGradient([3, 4], shape: [2])
        u.accumulateGradient([0, -12], shape: [2])
        XCTAssertEqual(adam.gradientNorm(), 13, accuracy: 1e-9)
        let norm = adam.update()
        XCTAssertEqual(norm, 13, accuracy: 1e-9, "update returns the norm before clipping")
        let clipped: [Double] = [3 / 13, 4 / 13, 0, -12 / 13]
        let m = (adam.firstMoments["w"] ?? []) + (adam.firstMoments["u"] ?? [])
        let v = (adam.secondMoments["w"] ?? []) + (adam.secondMoments["u"] ?? [])
        assertClose(m, clipped.map { 0.1 * $0 }, rtol: 1e-6, atol: 1e-9, "m = (1 − β₁) · clipped g")
        // 1 − β₂ as the Float optimizer forms it (Float(0.999) is off by 1.3e-5 relative to it).
        let oneMinusBeta2 = Double(1 - Float(0.999))
        assertClose(v, clipped.map { oneMinusBeta2 * $0 * $0 }, rtol: 1e-6, atol: 1e-12, "v = (1 − β₂) · clipped g²")
        // The first step is still lr · sign(g) (the scale cancels in m̂ / √v̂); zero stays put.
        assertClose(w.storage + u.storage, [-0.1, -0.1, 1, 1.1], rtol: 0, atol: 1e-6, "parameters")
    }

    func testAdam_noClippingBelowTheThreshold() {
        let w = Tensor(parameterShape: [2], storage: [0, 0])
        let adam = Adam(parameters: [("w", w)], maximumGradientNorm: 10)
        w.accumulateGradient([3, 4], shape: [2])
        XCTAssertEqual(adam.update(), 5, accuracy: 1e-9)
        assertClose(adam.firstMoments["w"] ?? [], [0.3, 0.4], rtol: 1e-6, atol: 0)
    }

    func testAdam_skipsParametersWithoutGradient() {
        let w = Tensor(parameterShape: [2], storage: [1, 2])
        let frozen = Tensor(parameterShape: [1], storage: [5])
        let adam = Adam(parameters: [("w", w), ("frozen", frozen)], learningRate: 0.5)
        w.accumulateGradient([1, -1], shape: [2])
        adam.update()
        XCTAssertEqual(frozen.storage, [5])
        XCTAssertEqual(adam.firstMoments["frozen"], [0])
        assertClose(w.storage, [0.5, 2.5], rtol: 0, atol: 1e-6)
    }

    /// An optimizer restored from another's moments and step continues identically.
    func testAdam_restoredStateContinuesIdentically() throws {
        func makeParameter() -> Tensor { Tensor(parameterShape: [3], storage: [0.1, -0.2, 0.3]) }
        let a = makeParameter(), b = makeParameter()
        let first = Adam(parameters: [("p", a)], learningRate: 0.05)
        let gradients: [[Float]] = [[1, 2, 3], [-1, 0.5, 2], [0.3, -0.3, 1], [2, 2, -2]]
        for g in gradients.prefix(2) { a.accumulateGradient(g, shape: [3]); first.update() }
        b.assign(a.storage)
        let second = Adam(parameters: [("p", b)], learningRate: 0.05)
        try second.restore(step: first.step, firstMoments: first.firstMoments, secondMoments: first.secondMoments)
        for g in gradients.suffix(2) {
            a.accumulateGradient(g, shape: [3]); first.update()
            b.accumulateGradient(g, shape: [3]); second.update()
        }
        XCTAssertEqual(a.storage, b.storage)
        XCTAssertEqual(first.firstMoments, second.firstMoments)
        XCTAssertEqual(first.secondMoments, second.secondMoments)
        XCTAssertEqual(second.step, 4)
    }

    func testAdam_restoreRefusesMissingOrMisshapedMoments() {
        let p = Tensor(parameterShape: [3], storage: [0, 0, 0])
        let adam = Adam(parameters: [("p", p)])
        XCTAssertThrowsError(try adam.restore(step: 1, firstMoments: [:], secondMoments: [:]))
        XCTAssertThrowsError(try adam.restore(step: 1, firstMoments: ["p": [0, 0]], secondMoments: ["p": [0, 0]]))
        XCTAssertEqual(adam.step, 0)
    }

    /// A resumed state that ``Adam/update()`` could never have produced is refused, naming the
    /// key, and nothing is assigned: negative, NaN or infinite second moments, non-finite first
    /// moments, a negative step.
    func testAdam_restoreRefusesImpossibleMoments() {
        let p = Tensor(parameterShape: [3], storage: [0, 0, 0])
        let adam = Adam(parameters: [("p", p)])
        let good: [Float] = [0.1, 0.2, 0.3]
        let cases: [(Int, [Float], [Float], String)] = [
            (1, good, [0.1, -1e-3, 0.3], "second moment of 'p'"),
            (1, good, [0.1, .nan, 0.3], "second moment of 'p'"),
            (1, good, [.infinity, 0.2, 0.3], "second moment of 'p'"),
            (1, [0, .nan, 0], good, "first moment of 'p'"),
            (1, [0, 0, -.infinity], good, "first moment of 'p'"),
            (-1, good, good, "step"),
        ]
        for (step, m, v, fragment) in cases {
            XCTAssertThrowsError(try adam.restore(step: step, firstMoments: ["p": m], secondMoments: ["p": v])) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error)")
            }
        }
        XCTAssertEqual(adam.step, 0)
        XCTAssertEqual(adam.secondMoments["p"], [0, 0, 0])
        XCTAssertNoThrow(try adam.restore(step: 2, firstMoments: ["p": [-0.5, 0, 0.5]], secondMoments: ["p": [0, -0.0, 1]]))
    }

    /// ``Adam/firstNonFiniteState()`` names the first non-finite parameter or moment; a huge
    /// learning rate makes the parameters infinite in one update.
    func testAdam_firstNonFiniteStateNamesTheFirstBadArray() {
        let a = Tensor(parameterShape: [2], storage: [0.1, 0.2]), b = Tensor(parameterShape: [40], storage: [Float](repeating: 1, count: 40))
        let adam = Adam(parameters: [("a", a), ("b", b)], learningRate: 1e-3)
        XCTAssertNil(adam.firstNonFiniteState())
        XCTAssertTrue(Adam.allFinite([1, -2, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, 0, -0.0]))
        XCTAssertFalse(Adam.allFinite([Float](repeating: 1, count: 37) + [.nan]))
        XCTAssertFalse(Adam.allFinite([-.infinity, 1]))
        b.assign([Float](repeating: 1, count: 39) + [.nan])
        XCTAssertEqual(adam.firstNonFiniteState(), "parameter 'b'")
        b.assign([Float](repeating: 1, count: 40))

        let huge = Adam(parameters: [("a", a)], learningRate: 1e38)
        a.accumulateGradient([1, -1], shape: [2])
        huge.update()
        XCTAssertEqual(huge.firstNonFiniteState(), "parameter 'a'")
    }
}
