import Evaluation
import XCTest

/// ELBO = reconstruction − Σ KL, and the average over draws.
final class EvidenceLowerBoundTests: XCTestCase {
    func testELBO_isReconstructionMinusEveryLayersKL() {
        let terms = EvidenceLowerBoundTerms(reconstruction: [-1.0, 2.0], layerKL: [[0.5, 0.25], [1.0, 4.0]])
        XCTAssertEqual(terms.elbo, [-2.5, -2.25])
        XCTAssertEqual(EvidenceLowerBoundTerms(reconstruction: [3], layerKL: []).elbo, [3], "no latent layer: the reconstruction")
    }

    func testAverage_ofDrawsIsTheirMeanPerExampleAndLayer() {
        let draws = [
            EvidenceLowerBoundTerms(reconstruction: [1, -4], layerKL: [[0.5, 1], [2, 0]]),
            EvidenceLowerBoundTerms(reconstruction: [3, -2], layerKL: [[1.5, 3], [0, 0]]),
            EvidenceLowerBoundTerms(reconstruction: [2, -6], layerKL: [[1.0, 2], [1, 3]]),
        ]
        let average = EvidenceLowerBoundTerms.average(of: draws)
        XCTAssertEqual(average.reconstruction[0], 2, accuracy: 1e-15)
        XCTAssertEqual(average.reconstruction[1], -4, accuracy: 1e-15)
        XCTAssertEqual(average.layerKL[0][0], 1, accuracy: 1e-15)
        XCTAssertEqual(average.layerKL[0][1], 2, accuracy: 1e-15)
        XCTAssertEqual(average.layerKL[1][0], 1, accuracy: 1e-15)
        XCTAssertEqual(average.layerKL[1][1], 1, accuracy: 1e-15)
        // The ELBO is linear in its terms: the ELBO of the averaged terms is the averaged ELBO.
        let averagedELBO = (0..<2).map { i in draws.map { $0.elbo[i] }.reduce(0, +) / 3 }
        for i in 0..<2 { XCTAssertEqual(average.elbo[i], averagedELBO[i], accuracy: 1e-14) }
        XCTAssertEqual(EvidenceLowerBoundTerms.average(of: [draws[1]]), draws[1], "one draw is its own average")
    }

    func testAppend_concatenatesExamples() {
        var terms = EvidenceLowerBoundTerms(reconstruction: [1], layerKL: [[0.5]])
        terms.append(EvidenceLowerBoundTerms(reconstruction: [2, 3], layerKL: [[0.25, 0.75]]))
        XCTAssertEqual(terms, EvidenceLowerBoundTerms(reconstruction: [1, 2, 3], layerKL: [[0.5, 0.25, 0.75]]))
        XCTAssertEqual(terms.exampleCount, 3)
    }
}
