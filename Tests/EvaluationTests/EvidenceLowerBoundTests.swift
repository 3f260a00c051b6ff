import Core
import Evaluation
import XCTest

/// ELBO = reconstruction − Σ KL, and the average over draws.
final class EvidenceLowerBoundTests: XCTestCase {
    /// Terms with layers named z1, z2, …
    func terms(reconstruction: [Double], layerKL: [[Double]]) -> ELBOTerms {
        ELBOTerms(reconstruction: reconstruction, layerNames: layerKL.indices.map { "z\($0 + 1)" }, layerKL: layerKL)
    }

    func testELBO_isReconstructionMinusEveryLayersKL() {
        let terms = self.terms(reconstruction: [-1.0, 2.0], layerKL: [[0.5, 0.25], [1.0, 4.0]])
        XCTAssertEqual(terms.elbo, [-2.5, -2.25])
        XCTAssertEqual(self.terms(reconstruction: [3], layerKL: []).elbo, [3], "no latent layer: the reconstruction")
    }

    func testAverage_ofDrawsIsTheirMeanPerExampleAndLayer() {
        let draws = [
            terms(reconstruction: [1, -4], layerKL: [[0.5, 1], [2, 0]]),
            terms(reconstruction: [3, -2], layerKL: [[1.5, 3], [0, 0]]),
            terms(reconstruction: [2, -6], layerKL: [[1.0, 2], [1, 3]]),
        ]
        let average = ELBOTerms.average(of: draws)
        XCTAssertEqual(average.reconstruction[0], 2, accuracy: 1e-15)
        XCTAssertEqual(average.reconstruction[1], -4, accuracy: 1e-15)
        XCTAssertEqual(average.layerKL[0][0], 1, accuracy: 1e-15)
        XCTAssertEqual(average.layerKL[0][1], 2, accuracy: 1e-15)
        XCTAssertEqual(average.layerKL[1][0], 1, accuracy: 1e-15)
        XCTAssertEqual(average.layerKL[1][1], 1, accuracy: 1e-15)
        // The ELBO is linear in its terms: the ELBO of the averaged terms is the averaged ELBO.
        let averagedELBO = (0..<2).map { i in draws.map { $0.elbo[i] }.reduce(0, +) / 3 }
        for i in 0..<2 { XCTAssertEqual(average.elbo[i], averagedELBO[i], accuracy: 1e-14) }
        XCTAssertEqual(ELBOTerms.average(of: [draws[1]]), draws[1], "one draw is its own average")
    }

    func testAppend_concatenatesExamples() {
        var terms = self.terms(reconstruction: [1], layerKL: [[0.5]])
        terms.append(self.terms(reconstruction: [2, 3], layerKL: [[0.25, 0.75]]))
        XCTAssertEqual(terms, self.terms(reconstruction: [1, 2, 3], layerKL: [[0.5, 0.25, 0.75]]))
        XCTAssertEqual(terms.exampleCount, 3)
    }
}
