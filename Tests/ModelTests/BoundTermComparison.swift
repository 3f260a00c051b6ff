import Core
import DDPMModel
import Tensor
import XCTest

/// Feeds the exact ELBO and the training path the same x_0, ε and t, and holds each example's
/// training L_{t−1} (summed over dimensions) against the ELBO's term for its t, within
/// 1e-4 · (1 + |L|) (the tolerance is argued in ``DDPMBoundTermTests``). Rows of `x` carry the
/// timesteps `timesteps`; ε for every (t, example, dimension) is drawn from `generator`.
/// Returns the largest relative difference seen.
@discardableResult
func assertTrainingTermsEqualELBO(_ model: DDPM, x: Tensor, timesteps: [Int], using generator: inout RandomGenerator,
                                  label: String, requireNonZero: Bool = false,
                                  file: StaticString = #filePath, line: UInt = #line) -> Double {
    let batch = x.shape[0], dimension = x.shape[1], steps = model.configuration.timestepCount
    // ε for every (t, example, dimension), in the ELBO's [t, example, dimension] order.
    var allNoise = [Float](repeating: 0, count: steps * batch * dimension)
    allNoise.withUnsafeMutableBufferPointer { generator.fillNormal($0) }
    var consumed = 0
    let elbo = model.elbo(x) { buffer in
        for j in buffer.indices { buffer[j] = allNoise[consumed + j] }
        consumed += buffer.count
    }
    XCTAssertEqual(consumed, allNoise.count, label, file: file, line: line)
    var noise = [Float]()
    for (i, t) in timesteps.enumerated() {
        let offset = ((t - 1) * batch + i) * dimension
        noise += allNoise[offset..<(offset + dimension)]
    }
    let terms = GradientMode.withoutRecording {
        model.trainingBoundTerms(x, noise: Tensor(shape: [batch, dimension], storage: noise), timesteps: timesteps)
    }
    XCTAssertEqual(terms.shape, [batch, dimension], label, file: file, line: line)
    var worst = 0.0
    for (i, t) in timesteps.enumerated() {
        var training = 0.0
        for d in 0..<dimension { training += Double(terms.storage[i * dimension + d]) }
        let evaluation = t == 1 ? -elbo.reconstruction[i] : elbo.layerKL[t - 2][i]
        XCTAssertTrue(evaluation.isFinite && (!requireNonZero || evaluation != 0), "\(label) t = \(t)", file: file, line: line)
        let error = abs(training - evaluation) / (1 + abs(evaluation))
        worst = max(worst, error)
        XCTAssertLessThanOrEqual(error, 1e-4, "\(label) t = \(t): training \(training) vs ELBO \(evaluation)", file: file, line: line)
    }
    return worst
}
