import Core
import Foundation
import NN
import Tensor
import XCTest

final class BernoulliTests: XCTestCase {
    static func softplus(_ x: Double) -> Double { Swift.max(x, 0) + log1p(exp(-Swift.abs(x))) }
    static let logits: [Float] = [-30, -8, -2.5, -0.3, 0, 0.7, 3, 9, 30, -100, 100, 1e-3]

    func testBernoulli_logProbabilityIsXTimesLogitMinusSoftplus() {
        let n = Self.logits.count
        let l = Tensor(shape: [1, n], storage: Self.logits)
        for bit: Float in [0, 1] {
            let x = Tensor(repeating: bit, shape: [1, n])
            let perElement = Bernoulli(logits: l).logProbabilityPerElement(x)
            XCTAssertEqual(perElement.shape, [1, n])
            let expected = Self.logits.map { Double(bit) * Double($0) - Self.softplus(Double($0)) }
            // Absolute 1e-5 for the ±100 entries, where x ℓ and softplus(ℓ) are both ~100.
            assertClose(perElement.storage, expected, rtol: 1e-6, atol: 1e-5, "x = \(bit)")
            XCTAssertTrue(perElement.storage.allSatisfy { $0.isFinite && $0 <= 0 })
            XCTAssertEqual(Double(Bernoulli(logits: l).logProbability(x).scalar), expected.reduce(0, +), accuracy: 1e-4)
        }
    }

    func testBernoulli_probabilitiesOfZeroAndOneSumToOne() {
        let n = Self.logits.count
        let b = Bernoulli(logits: Tensor(shape: [1, n], storage: Self.logits))
        let zero = b.logProbabilityPerElement(Tensor(repeating: 0, shape: [1, n])).storage
        let one = b.logProbabilityPerElement(Tensor(repeating: 1, shape: [1, n])).storage
        for i in 0..<n {
            XCTAssertEqual(exp(Double(zero[i])) + exp(Double(one[i])), 1, accuracy: 1e-6, "logit \(Self.logits[i])")
        }
        // P(x = 1) is the mean σ(ℓ).
        assertClose(b.mean.storage, one.map { exp(Double($0)) }, rtol: 1e-5, atol: 1e-7)
    }

    func testBernoulli_klMatchesDirectFormula() {
        let l1: [Float] = [-3, -1, 0, 0.5, 2, 4, -0.2, 1.5]
        let l2: [Float] = [1, -1, 2, -0.5, 0, 3, 0.8, -2]
        let p = Bernoulli(logits: Tensor(shape: [2, 4], storage: l1))
        let q = Bernoulli(logits: Tensor(shape: [2, 4], storage: l2))
        let kl = p.kl(to: q)
        XCTAssertEqual(kl.shape, [2])
        for row in 0..<2 {
            var total = 0.0
            for j in 0..<4 {
                let a = 1 / (1 + exp(-Double(l1[row * 4 + j]))), b = 1 / (1 + exp(-Double(l2[row * 4 + j])))
                total += a * log(a / b) + (1 - a) * log((1 - a) / (1 - b))
            }
            XCTAssertEqual(Double(kl.storage[row]), total, accuracy: 1e-5 * Swift.max(1, total))
        }
        for value in p.kl(to: p).storage { XCTAssertEqual(value, 0, accuracy: 1e-6) }
        // Finite for extreme logits.
        let extreme = Bernoulli(logits: Tensor(shape: [1, 2], storage: [-60, 60]))
        let opposite = Bernoulli(logits: Tensor(shape: [1, 2], storage: [60, -60]))
        let value = extreme.kl(to: opposite).scalar
        XCTAssertTrue(value.isFinite && value >= 0, "KL = \(value)")
    }

    func testBernoulli_gradientsMatchFiniteDifferences() {
        var generator = RandomGenerator(seed: 50)
        let logits = uniform([3, 4], -4, 4, &generator)
        let x = Tensor(shape: [3, 4], storage: (0..<12).map { Float($0 % 2) })
        assertGradientsMatch([logits], "log p") { Bernoulli(logits: $0[0]).logProbabilityPerElement(x) }
        assertGradientsMatch([logits, uniform([3, 4], -3, 3, &generator)], "KL") {
            Bernoulli(logits: $0[0]).kl(to: Bernoulli(logits: $0[1]))
        }
    }

    func testBernoulli_sampleFrequenciesMatchProbabilities() {
        var generator = RandomGenerator(seed: 51)
        let n = 20_000
        let logits: [Float] = [-2, 0, 1.5]
        let b = Bernoulli(logits: Tensor(shape: [n, 3], storage: Array([[Float]](repeating: logits, count: n).joined())))
        let x = b.sample(using: &generator)
        XCTAssertTrue(x.storage.allSatisfy { $0 == 0 || $0 == 1 })
        XCTAssertFalse(x.requiresGradient)
        for d in 0..<3 {
            let p = 1 / (1 + exp(-Double(logits[d])))
            let frequency = (0..<n).reduce(0.0) { $0 + Double(x.storage[$1 * 3 + d]) } / Double(n)
            XCTAssertLessThan(Swift.abs(frequency - p), 5 * (p * (1 - p) / Double(n)).squareRoot(), "dimension \(d)")
        }
    }
}
