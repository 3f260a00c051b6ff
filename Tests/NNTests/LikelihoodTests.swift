import Core
import Foundation
import NN
import Tensor
import XCTest

final class LikelihoodTests: XCTestCase {
    /// Decoder output [batch, k·D] laid out as [first parameter (D) | second parameter (D)].
    static func makeCase(_ likelihood: Likelihood, seed: UInt64) -> (x: Tensor, output: Tensor) {
        var generator = RandomGenerator(seed: seed)
        let batch = 3, d = 4
        let output = uniform([batch, likelihood.outputsPerDimension * d], -1.5, 1.5, &generator)
        let x: Tensor
        switch likelihood {
        case .continuous: x = Tensor.randomNormal(shape: [batch, d], using: &generator)
        case .binary: x = Tensor(shape: [batch, d], storage: (0..<(batch * d)).map { _ in Float(generator.nextInt(below: 2)) })
        case .discrete(let levels):
            x = Tensor(shape: [batch, d], storage: (0..<(batch * d)).map { _ in
                Float(-1 + 2 * Double(generator.nextInt(below: levels)) / Double(levels - 1))
            })
        }
        return (x, output)
    }

    static func column(_ t: Tensor, _ row: Int, _ column: Int) -> Double { Double(t.storage[row * t.shape[1] + column]) }

    func testLikelihoodContinuous_isDiagonalGaussianWithMeanThenLogVariance() {
        let (x, output) = Self.makeCase(.continuous, seed: 70)
        let routed = Likelihood.continuous.logProbabilityPerElement(of: x, decoderOutput: output)
        XCTAssertEqual(routed.shape, [3, 4])
        let direct = DiagonalGaussian(mean: output.slice(axis: 1, 0..<4), logVariance: output.slice(axis: 1, 4..<8)).logDensityPerElement(x)
        XCTAssertEqual(routed.storage, direct.storage)
        var expected: [Double] = []
        for r in 0..<3 {
            for c in 0..<4 {
                expected.append(GaussianFormulas.logDensity(Self.column(x, r, c), mean: Self.column(output, r, c), logVariance: Self.column(output, r, 4 + c)))
            }
        }
        assertClose(routed.storage, expected, rtol: 1e-6, atol: 1e-6)
    }

    func testLikelihoodBinary_isBernoulliWithLogits() {
        let (x, output) = Self.makeCase(.binary, seed: 71)
        XCTAssertEqual(output.shape, [3, 4])
        let routed = Likelihood.binary.logProbabilityPerElement(of: x, decoderOutput: output)
        let direct = Bernoulli(logits: output).logProbabilityPerElement(x)
        XCTAssertEqual(routed.storage, direct.storage)
        let expected = (0..<12).map { i -> Double in
            let l = Double(output.storage[i])
            return Double(x.storage[i]) * l - (Swift.max(l, 0) + log1p(exp(-Swift.abs(l))))
        }
        assertClose(routed.storage, expected, rtol: 1e-6, atol: 1e-6)
    }

    func testLikelihoodDiscrete_isDiscretizedGaussianWithMeanThenLogScale() {
        for levels in [2, 17, 256] {
            let likelihood = Likelihood.discrete(levels: levels)
            let (x, output) = Self.makeCase(likelihood, seed: 72 + UInt64(levels))
            let routed = likelihood.logProbabilityPerElement(of: x, decoderOutput: output)
            let direct = DiscretizedGaussian(mean: output.slice(axis: 1, 0..<4), logScale: output.slice(axis: 1, 4..<8), levels: levels)
                .logProbabilityPerElement(x)
            XCTAssertEqual(routed.storage, direct.storage, "levels \(levels)")
            var expected: [Double] = []
            for r in 0..<3 {
                for c in 0..<4 {
                    expected.append(DiscretizedGaussian.logProbabilityAndGradient(
                        Self.column(x, r, c), mean: Self.column(output, r, c), logScale: Self.column(output, r, 4 + c), levels: levels).value)
                }
            }
            assertClose(routed.storage, expected, rtol: 1e-6, atol: 1e-6, "levels \(levels)")
        }
    }

    func testLikelihood_gradientsReachTheDecoderOutput() {
        for likelihood in [Likelihood.continuous, .binary, .discrete(levels: 17)] {
            let (x, output) = Self.makeCase(likelihood, seed: 80)
            assertGradientsMatch([output], "\(likelihood)") { likelihood.logProbabilityPerElement(of: x, decoderOutput: $0[0]) }
        }
    }

    func testLikelihood_namesLevelsAndOutputs() {
        XCTAssertEqual(Likelihood(name: "continuous", levels: nil), .continuous)
        XCTAssertEqual(Likelihood(name: "binary", levels: nil), .binary)
        XCTAssertEqual(Likelihood(name: "discrete", levels: 256), .discrete(levels: 256))
        XCTAssertNil(Likelihood(name: "discrete", levels: nil))
        XCTAssertNil(Likelihood(name: "discrete", levels: 1))
        XCTAssertNil(Likelihood(name: "gaussian", levels: nil))
        for likelihood in [Likelihood.continuous, .binary, .discrete(levels: 17)] {
            XCTAssertEqual(Likelihood(name: likelihood.name, levels: likelihood.levels), likelihood)
        }
        XCTAssertEqual([Likelihood.continuous, .binary, .discrete(levels: 9)].map(\.outputsPerDimension), [2, 1, 2])
        XCTAssertEqual([Likelihood.continuous, .binary, .discrete(levels: 9)].map(\.levels), [nil, 2, 9])
    }

    func testLikelihood_samplesHaveTheDataShapeAndSupport() {
        var generator = RandomGenerator(seed: 90)
        for likelihood in [Likelihood.continuous, .binary, .discrete(levels: 17)] {
            let (_, output) = Self.makeCase(likelihood, seed: 91)
            let x = likelihood.sample(decoderOutput: output, dimension: 4, using: &generator)
            XCTAssertEqual(x.shape, [3, 4], "\(likelihood)")
            XCTAssertFalse(x.requiresGradient)
            switch likelihood {
            case .binary: XCTAssertTrue(x.storage.allSatisfy { $0 == 0 || $0 == 1 })
            case .discrete: XCTAssertTrue(x.storage.allSatisfy { $0 >= -1 && $0 <= 1 && (($0 + 1) * 8).rounded() == ($0 + 1) * 8 })
            case .continuous: XCTAssertTrue(x.storage.allSatisfy(\.isFinite))
            }
        }
    }
}
