import Core
import Foundation
import Tensor
import XCTest

/// The fused Bernoulli log-likelihood (`Tensor.bernoulliLogLikelihood`) against the composition
/// it replaces (bit for bit, value and gradients, every kernel, one and two threads), against an
/// independent Double formula, and against finite differences.
final class BernoulliLogLikelihoodTests: XCTestCase {
    /// Logits spread over the softplus's regimes — moderate, large of both signs (e^{−|ℓ|} below
    /// Float's normal range), exactly 0 — and observations 0, 1 and in between. 45 × 797: rows
    /// of an odd width (the vector loops' tails), more than 2 × `Parallel.minimumChunk` elements
    /// (split over two threads).
    func operands(seed: UInt64, rows: Int = 45, columns: Int = 797) -> (logits: Tensor, observations: Tensor) {
        var data = TestData(seed: seed)
        var logits = data.normal([rows, columns]).storage.map { $0 * 4 }
        let extremes: [Float] = [0, -0.0, 30, -30, 88, -88, 100, -100, 1e-8, -1e-8]
        for (i, value) in extremes.enumerated() { logits[i * 37 % logits.count] = value }
        let uniforms = data.uniform([rows, columns], 0, 1).storage
        let observations = uniforms.enumerated().map { i, u -> Float in i % 5 == 0 ? u : (u < 0.5 ? 0 : 1) }
        return (Tensor(shape: [rows, columns], storage: logits), Tensor(shape: [rows, columns], storage: observations))
    }

    /// Value and gradients of Σ_rows R_r · f(ℓ, x)_r for f the fused operation or the composition.
    func valueAndGradients(fused: Bool, logits: Tensor, observations: Tensor, weights: [Float])
        -> (value: [Float], logits: [Float], observations: [Float]) {
        let l = Tensor(parameterShape: logits.shape, storage: logits.storage)
        let x = Tensor(parameterShape: observations.shape, storage: observations.storage)
        let rows = fused ? Tensor.bernoulliLogLikelihood(logits: l, observations: x)
                         : (x * l - l.softplus()).sum(axis: -1)
        (rows * Tensor(shape: [weights.count], storage: weights)).sum().backward()
        return (rows.storage, l.gradient ?? [], x.gradient ?? [])
    }

    func testTheSameBitsAsTheCompositionUnderEveryKernelAndThreadCount() {
        let (logits, observations) = operands(seed: 41)
        var data = TestData(seed: 42)
        let weights = data.normal([logits.shape[0]]).storage
        forEachKernelAndThreadCount { kernels, threads in
            let fused = valueAndGradients(fused: true, logits: logits, observations: observations, weights: weights)
            let composed = valueAndGradients(fused: false, logits: logits, observations: observations, weights: weights)
            let context = "\(kernels) kernels, \(threads) threads"
            XCTAssertEqual(fused.value.map(\.bitPattern), composed.value.map(\.bitPattern), "values, \(context)")
            XCTAssertEqual(fused.logits.map(\.bitPattern), composed.logits.map(\.bitPattern), "∂/∂ℓ, \(context)")
            XCTAssertEqual(fused.observations.map(\.bitPattern), composed.observations.map(\.bitPattern), "∂/∂x, \(context)")
            XCTAssertTrue(fused.value.allSatisfy(\.isFinite) && fused.logits.allSatisfy(\.isFinite), context)
        }
    }

    func testTheDoubleSumsAreThoseOfThePerElementTerms() {
        let (logits, observations) = operands(seed: 43)
        let fused = Tensor.bernoulliLogLikelihoodInDouble(logits: logits, observations: observations)
        let composed = GradientMode.withoutRecording { (observations * logits - logits.softplus()).rowSumsInDouble() }
        XCTAssertEqual(fused.map(\.bitPattern), composed.map(\.bitPattern))
    }

    /// log p(x | ℓ) = Σ x log σ(ℓ) + (1 − x) log(1 − σ(ℓ)), written independently in Double with
    /// log σ(ℓ) = −log1p(e^{−ℓ}) (ℓ ≥ 0) or ℓ − log1p(e^{ℓ}). The Float per-element terms are
    /// each within a few ulps of their magnitude (≤ 100 here), so a row of 797 stays within
    /// 797 × 100 × 2⁻²² ≈ 0.02 of the Double sum; a wrong sign or a missing term is off by tens.
    func testTheValueAgainstAnIndependentFormula() {
        let (logits, observations) = operands(seed: 44, rows: 7)
        let values = Tensor.bernoulliLogLikelihood(logits: logits, observations: observations).storage
        let columns = logits.shape[1]
        func logSigmoid(_ l: Double) -> Double { l >= 0 ? -Foundation.log1p(Foundation.exp(-l)) : l - Foundation.log1p(Foundation.exp(l)) }
        for row in 0..<7 {
            var expected = 0.0
            for j in (row * columns)..<((row + 1) * columns) {
                let l = Double(logits.storage[j]), x = Double(observations.storage[j])
                expected += x * logSigmoid(l) + (1 - x) * logSigmoid(-l)
            }
            XCTAssertEqual(Double(values[row]), expected, accuracy: 0.02, "row \(row)")
        }
    }

    func testGradientsAgainstFiniteDifferences() {
        var data = TestData(seed: 45)
        let logits = Tensor(shape: [3, 11], storage: data.normal([3, 11]).storage.map { $0 * 2 })
        let observations = data.uniform([3, 11], 0, 1)
        assertGradientsMatch([logits, observations], "Bernoulli log-likelihood") {
            Tensor.bernoulliLogLikelihood(logits: $0[0], observations: $0[1])
        }
    }

    /// The slopes kept for the backward pass are σ(ℓ): ∂/∂ℓ of a row with incoming gradient 1
    /// is x − σ(ℓ), checked in Double.
    func testTheLogitGradientIsTheResidual() {
        let (logits, observations) = operands(seed: 46, rows: 2, columns: 13)
        let l = Tensor(parameterShape: logits.shape, storage: logits.storage)
        Tensor.bernoulliLogLikelihood(logits: l, observations: observations).sum().backward()
        for (j, gradient) in (l.gradient ?? []).enumerated() {
            let sigmoid = 1 / (1 + Foundation.exp(-Double(logits.storage[j])))
            XCTAssertEqual(Double(gradient), Double(observations.storage[j]) - sigmoid, accuracy: 1e-6, "element \(j)")
        }
    }
}
