import Evaluation
import XCTest

/// The rise of log p̂ between K' and K_max, its verdict, the bias estimate and the ESS summary.
final class ConvergenceDiagnosticTests: XCTestCase {
    func evaluation(sampleCounts: [Int], iwae: [[Double]], effectiveSampleSize: [Double]? = nil) -> ModelEvaluation {
        ModelEvaluation(exampleCount: iwae[0].count, dataDimension: 2, sampleCounts: sampleCounts, elbo: iwae[0], reconstruction: iwae[0],
                        layerNames: [], layerKL: [], iwae: iwae, logDensity: nil, effectiveSampleSize: effectiveSampleSize)
    }

    func testNoRise_hasConverged() {
        let flat = [-1.0, -2.0, -1.5, -0.5]
        let d = ConvergenceDiagnostic(evaluation(sampleCounts: [1, 10, 100], iwae: [flat.map { $0 - 0.3 }, flat, flat]))
        XCTAssertEqual(d.riseSampleCounts, [10, 100])
        XCTAssertEqual(d.rise!.mean, 0)
        XCTAssertEqual(d.hasConverged, true)
        XCTAssertEqual(d.remainingBias, 0)
    }

    /// A rise of 0.5 ± 0.004 (125 s.e.) from K = 100 to 1000 is not converged, and the bias left at
    /// K_max under E[IWAE_K] ≈ log p − c/K is rise/9; a rise within noise of 0 is converged.
    func testSignificantRise_hasNotConverged_andTheBiasIsTheRiseOverNine() {
        let low = [-3.0, -2.0, -2.5, -4.0, -3.5]
        let high = zip(low, [0.5, 0.49, 0.51, 0.5, 0.495]).map { $0 + $1 }
        let d = ConvergenceDiagnostic(evaluation(sampleCounts: [1, 10, 100, 1000], iwae: [low, low, low, high]))
        XCTAssertEqual(d.riseSampleCounts, [100, 1000], "K' = K_max/10 when evaluated")
        XCTAssertEqual(d.rise!.mean, 0.499, accuracy: 1e-12)
        XCTAssertEqual(d.hasConverged, false)
        XCTAssertEqual(d.remainingBias!, 0.499 / 9, accuracy: 1e-12)

        let noisy = zip(low, [0.01, -0.01, 0.02, -0.02, 0.0]).map { $0 + $1 }
        XCTAssertEqual(ConvergenceDiagnostic(evaluation(sampleCounts: [100, 1000], iwae: [low, noisy])).hasConverged, true)
    }

    /// Without K_max/10 the largest other K that divides K_max is used (the U-Net DDPM's K = 1, 2, 4);
    /// with one K nothing can be said.
    func testPairChoice_withoutATenthAndWithOneK() {
        let values = [-1.0, -2.0, -3.0]
        let d = ConvergenceDiagnostic(evaluation(sampleCounts: [1, 2, 4], iwae: [values, values, values.map { $0 + 0.3 }]))
        XCTAssertEqual(d.riseSampleCounts, [2, 4])
        XCTAssertEqual(d.remainingBias!, 0.3, accuracy: 1e-12, "rise/(4/2 − 1)")
        let one = ConvergenceDiagnostic(evaluation(sampleCounts: [8], iwae: [values]))
        XCTAssertNil(one.rise)
        XCTAssertNil(one.hasConverged)
        XCTAssertNil(one.medianEffectiveSampleSize)
    }

    func testEffectiveSampleSize_medianAndTenthPercentile() {
        let values = [-1.0, -2.0, -3.0, -4.0, -5.0]
        let d = ConvergenceDiagnostic(evaluation(sampleCounts: [1, 10], iwae: [values, values],
                                                 effectiveSampleSize: [9.0, 1.0, 5.0, 3.0, 7.0]))
        XCTAssertEqual(d.medianEffectiveSampleSize, 5)
        XCTAssertEqual(d.tenthPercentileEffectiveSampleSize!, 1.8, accuracy: 1e-12, "np.percentile([1,3,5,7,9], 10)")
    }
}
