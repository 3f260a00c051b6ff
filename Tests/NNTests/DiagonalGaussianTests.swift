import Core
import Foundation
import NN
import Tensor
import XCTest

final class DiagonalGaussianTests: XCTestCase {
    static func logDensity(_ x: Double, _ mean: Double, _ logVariance: Double) -> Double {
        let variance = exp(logVariance)
        return -0.5 * log(2 * Double.pi * variance) - (x - mean) * (x - mean) / (2 * variance)
    }

    func testDiagonalGaussian_logProbabilityMatchesFormula() {
        var generator = RandomGenerator(seed: 40)
        let mean = Tensor.randomNormal(shape: [3, 4], using: &generator)
        let logVariance = uniform([3, 4], -3, 2, &generator)
        let x = Tensor.randomNormal(shape: [3, 4], using: &generator)
        let q = DiagonalGaussian(mean: mean, logVariance: logVariance)
        let perElement = q.logDensityPerElement(x)
        XCTAssertEqual(perElement.shape, [3, 4])
        let expected = (0..<12).map { Self.logDensity(Double(x.storage[$0]), Double(mean.storage[$0]), Double(logVariance.storage[$0])) }
        assertClose(perElement.storage, expected, rtol: 1e-6, atol: 1e-6)
        let perExample = q.logProbability(x)
        XCTAssertEqual(perExample.shape, [3])
        let sums = (0..<3).map { row in (0..<4).reduce(0.0) { $0 + expected[row * 4 + $1] } }
        assertClose(perExample.storage, sums, rtol: 1e-6, atol: 1e-5)
        // The standard normal at 0: −½ log 2π per dimension.
        let standard = DiagonalGaussian.standard(shape: [1, 5]).logProbability(Tensor(repeating: 0, shape: [1, 5]))
        XCTAssertEqual(Double(standard.scalar), -2.5 * log(2 * Double.pi), accuracy: 1e-5)
    }

    func testDiagonalGaussian_broadcastsMeanAndLogVariance() {
        let q = DiagonalGaussian(mean: Tensor(shape: [1, 2], storage: [1, -1]), logVariance: Tensor(repeating: 0.5, shape: [3, 2]))
        XCTAssertEqual(q.shape, [3, 2])
        let x = Tensor(repeating: 0, shape: [3, 2])
        let expected = (0..<6).map { Self.logDensity(0, $0 % 2 == 0 ? 1 : -1, 0.5) }
        assertClose(q.logDensityPerElement(x).storage, expected, rtol: 1e-6, atol: 1e-6)
    }

    /// KL(q ‖ p) = E_q[log q(z) − log p(z)], estimated from 20 000 draws of q.
    func testDiagonalGaussian_klMatchesMonteCarloEstimate() {
        var generator = RandomGenerator(seed: 41)
        let mq: [Float] = [0.3, -1, 2], lq: [Float] = [-0.5, 0.4, -1.5]
        let mp: [Float] = [0, 0.5, 1.5], lp: [Float] = [0, -0.3, 0.2]
        let q = DiagonalGaussian(mean: Tensor(shape: [1, 3], storage: mq), logVariance: Tensor(shape: [1, 3], storage: lq))
        let p = DiagonalGaussian(mean: Tensor(shape: [1, 3], storage: mp), logVariance: Tensor(shape: [1, 3], storage: lp))
        let kl = Double(q.kl(to: p).scalar)
        // Closed form, written out independently.
        var closed = 0.0
        for i in 0..<3 {
            let vq = exp(Double(lq[i])), vp = exp(Double(lp[i])), d = Double(mq[i] - mp[i])
            closed += 0.5 * (log(vp / vq) + (vq + d * d) / vp - 1)
        }
        XCTAssertEqual(kl, closed, accuracy: 1e-5)

        let n = 20_000
        func repeated(_ values: [Float]) -> Tensor { Tensor(shape: [n, 3], storage: Array([[Float]](repeating: values, count: n).joined())) }
        let qn = DiagonalGaussian(mean: repeated(mq), logVariance: repeated(lq))
        let pn = DiagonalGaussian(mean: repeated(mp), logVariance: repeated(lp))
        let z = qn.sample(using: &generator)
        let difference = zip(qn.logProbability(z).storage, pn.logProbability(z).storage).map { Double($0) - Double($1) }
        let estimate = difference.reduce(0, +) / Double(n)
        let variance = difference.reduce(0) { $0 + ($1 - estimate) * ($1 - estimate) } / Double(n - 1)
        let standardError = (variance / Double(n)).squareRoot()
        XCTAssertLessThan(Swift.abs(estimate - kl), 4 * standardError, "MC \(estimate) ± \(standardError) vs closed form \(kl)")
    }

    func testDiagonalGaussian_klIsZeroForIdenticalAndPositiveOtherwise() {
        var generator = RandomGenerator(seed: 42)
        let mean = Tensor.randomNormal(shape: [4, 6], using: &generator)
        let logVariance = uniform([4, 6], -4, 3, &generator)
        let q = DiagonalGaussian(mean: mean, logVariance: logVariance)
        for value in q.kl(to: q).storage { XCTAssertEqual(value, 0, accuracy: 1e-6) }
        for value in q.klPerElement(to: q).storage { XCTAssertEqual(value, 0, accuracy: 1e-7) }
        let p = DiagonalGaussian(mean: mean + 0.1, logVariance: logVariance)
        XCTAssertTrue(q.kl(to: p).storage.allSatisfy { $0 > 0 })
        // Against N(0, I) it broadcasts.
        let standard = DiagonalGaussian.standard(shape: [1, 6])
        XCTAssertEqual(q.kl(to: standard).shape, [4])
    }

    func testDiagonalGaussian_sampleMeanAndVariance() {
        var generator = RandomGenerator(seed: 43)
        let n = 20_000
        let means: [Float] = [0.5, -2, 0], logVariances: [Float] = [Float(log(0.25)), Float(log(4.0)), 0]
        let q = DiagonalGaussian(mean: Tensor(shape: [n, 3], storage: Array([[Float]](repeating: means, count: n).joined())),
                                 logVariance: Tensor(shape: [1, 3], storage: logVariances))
        let z = q.sample(using: &generator)
        XCTAssertEqual(z.shape, [n, 3])
        for d in 0..<3 {
            let column = (0..<n).map { Double(z.storage[$0 * 3 + d]) }
            let mean = column.reduce(0, +) / Double(n)
            let variance = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
            let sigma2 = exp(Double(logVariances[d]))
            XCTAssertLessThan(Swift.abs(mean - Double(means[d])), 5 * (sigma2 / Double(n)).squareRoot(), "mean \(d)")
            XCTAssertLessThan(Swift.abs(variance - sigma2), 5 * sigma2 * (2 / Double(n - 1)).squareRoot(), "variance \(d)")
        }
    }

    func testDiagonalGaussian_sampleIsReparameterized() {
        var generator = RandomGenerator(seed: 44)
        let mean = Tensor(parameterShape: [2, 3], storage: [0, 1, 2, 3, 4, 5])
        let logVariance = Tensor(parameterShape: [2, 3], storage: [0, 0.5, -0.5, 1, -1, 0])
        var copy = generator
        let z = DiagonalGaussian(mean: mean, logVariance: logVariance).sample(using: &generator)
        let noise = Tensor.randomNormal(shape: [2, 3], using: &copy)
        z.sum().backward()
        XCTAssertEqual(mean.gradient ?? [], [1, 1, 1, 1, 1, 1])
        // ∂z/∂log σ² = ½ σ ε.
        let expected = (0..<6).map { 0.5 * exp(0.5 * Double(logVariance.storage[$0])) * Double(noise.storage[$0]) }
        assertClose(logVariance.gradient ?? [], expected, rtol: 1e-5, atol: 1e-6)
    }

    func testDiagonalGaussian_logDensityGradientsMatchFiniteDifferences() {
        var generator = RandomGenerator(seed: 45)
        let x = Tensor.randomNormal(shape: [3, 4], using: &generator)
        let mean = Tensor.randomNormal(shape: [3, 4], using: &generator)
        let logVariance = uniform([3, 4], -1, 1, &generator)
        assertGradientsMatch([x, mean, logVariance], "log density") {
            DiagonalGaussian(mean: $0[1], logVariance: $0[2]).logDensityPerElement($0[0])
        }
        // Broadcast parameters: the gradients are summed back to their shapes.
        assertGradientsMatch([x, mean.rows(0..<1), uniform([3, 1], -1, 1, &generator)], "broadcast") {
            DiagonalGaussian(mean: $0[1], logVariance: $0[2]).logProbability($0[0])
        }
    }

    func testDiagonalGaussian_klGradientsMatchFiniteDifferences() {
        var generator = RandomGenerator(seed: 46)
        let inputs = [Tensor.randomNormal(shape: [2, 3], using: &generator), uniform([2, 3], -1, 1, &generator),
                      Tensor.randomNormal(shape: [2, 3], using: &generator), uniform([2, 3], -1, 1, &generator)]
        assertGradientsMatch(inputs, "KL per element") {
            DiagonalGaussian(mean: $0[0], logVariance: $0[1]).klPerElement(to: DiagonalGaussian(mean: $0[2], logVariance: $0[3]))
        }
        assertGradientsMatch(Array(inputs.prefix(2)), "KL to N(0, I)") {
            DiagonalGaussian(mean: $0[0], logVariance: $0[1]).kl(to: .standard(shape: [1, 3]))
        }
    }
}
