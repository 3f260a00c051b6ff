import Core
import DDPMModel
import DatasetMakers
import Evaluation
import Pipeline
import Tensor
import XCTest

/// The entropy ceiling (docs/math.md#entropy-ceiling) on a real model: the oracle DDPM of the
/// ring of Gaussians is a proper model, so its ELBO and log p̂ stay below the data's own
/// log-density; the same numbers against a stored log q(x0) that is 2 nats too low (data
/// rescaled by e per axis, D = 2, and its density not) break both ceilings, and the checks call
/// the result impossible.
final class EntropyCeilingTests: XCTestCase {
    func testOracleDDPM_respectsTheCeiling_andAPlantedDensityErrorBreaksIt() throws {
        let ring = RingOfGaussians()
        var configuration = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        configuration.timestepCount = 64
        configuration.schedule = .cosine
        let model = try DDPM.withOracleDenoiser(configuration: configuration, mixture: try ring.mixture)
        var generator = RandomGenerator(seed: 4)
        let points = (0..<200).map { _ in ring.sample(using: &generator) }
        let data = Tensor(shape: [200, 2], storage: points.flatMap { $0.map(Float.init) })
        // The density of the values the model sees (the Float-rounded points).
        let logDensity = (0..<200).map { i in ring.logDensity([Double(data.storage[2 * i]), Double(data.storage[2 * i + 1])])! }

        func ceilings(_ logDensity: [Double]) throws -> [BoundInequalityCheck] {
            var generator = RandomGenerator(seed: 5)
            let evaluation = try evaluate(model, data: data, sampleCounts: [1, 10], logDensity: logDensity, elboDraws: 4, using: &generator)
            return boundInequalityChecks(evaluation).filter { $0.inequality.isImpossibleWhenViolated }
        }
        let honest = try ceilings(logDensity)
        XCTAssertEqual(honest.map(\.inequality), [.jointNonNegative, .marginalNonNegative])
        XCTAssertTrue(honest.allSatisfy { $0.holds == true }, "\(honest)")
        let planted = try ceilings(logDensity.map { $0 - 2 })
        XCTAssertTrue(planted.allSatisfy { $0.holds == false }, "\(planted)")
    }
}
