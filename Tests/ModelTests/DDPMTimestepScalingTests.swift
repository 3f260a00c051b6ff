import DDPMModel
import Foundation
import NN
import Tensor
import XCTest

/// The timestep embedding e(s(t)) must tell every t apart (docs/math.md#timestep-embedding),
/// and configurations stored before ``TimestepScaling`` existed must keep their formula.
final class DDPMTimestepScalingTests: XCTestCase {
    func testEmbedding_withStandardScaling_isInjectiveInT() {
        for steps in [1, 2, 999, 1000, 1001, 2000, 4000] {
            var configuration = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
            configuration.timestepCount = steps
            configuration.embeddingDimension = 32
            XCTAssertEqual(configuration.timestepScaling, steps <= 1000 ? .floor : .real, "T = \(steps)")
            let embedding = DiffusionTimestepEmbedding(configuration: configuration)
            let rows = embedding(Array(1...steps)).storage
            let distinct = Set((0..<steps).map { Array(rows[($0 * 32)..<(($0 + 1) * 32)]) })
            XCTAssertEqual(distinct.count, steps, "T = \(steps): consecutive timesteps share an embedding")
        }
    }

    /// The legacy floor formula is kept bit for bit (every T ≤ 1000 run), and it is the one that
    /// is not injective above T = 1000: the reason for `.real`.
    func testEmbedding_floorScaling_isTheLegacyIntegerFormula() {
        for steps in [7, 1000, 2000] {
            let embedding = DiffusionTimestepEmbedding(scaling: .floor, timestepCount: steps, dimension: 8)
            let timesteps = Array(1...steps)
            XCTAssertEqual(embedding(timesteps).storage,
                           sinusoidalTimestepEmbedding(timesteps.map { $0 * 1000 / steps }, dimension: 8).storage, "T = \(steps)")
        }
        let legacy = DiffusionTimestepEmbedding(scaling: .floor, timestepCount: 2000, dimension: 8)
        XCTAssertEqual(legacy([2]).storage, legacy([3]).storage)
        let real = DiffusionTimestepEmbedding(scaling: .real, timestepCount: 2000, dimension: 8)
        XCTAssertEqual(real([3]).storage, sinusoidalTimestepEmbedding(values: [1.5], dimension: 8).storage)
        XCTAssertEqual(real([2000]).storage, sinusoidalTimestepEmbedding([1000], dimension: 8).storage)
    }

    func testConfiguration_storedWithoutTimestepScaling_decodesAsFloor() throws {
        // A config as checkpoints stored it before the field existed (sorted keys, T = 2000).
        let legacy = #"{"activation":"silu","dataDimension":2,"embeddingDimension":32,"hiddenSizes":[128,128,128],"likelihoodName":"continuous","loss":"simple","schedule":"linear","timestepCount":2000,"variance":"fixed-small"}"#
        let decoded = try JSONDecoder().decode(DDPMConfiguration.self, from: Data(legacy.utf8))
        XCTAssertEqual(decoded.timestepCount, 2000)
        XCTAssertEqual(decoded.timestepScaling, .floor)
        XCTAssertNil(decoded.clipPredictedStart)
        XCTAssertNoThrow(try decoded.validate())

        // For T ≤ 1000 the legacy config equals a fresh one, so those runs resume and keep their bits.
        let legacy1000 = legacy.replacingOccurrences(of: "2000", with: "1000")
        var fresh = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        fresh.timestepCount = 1000
        XCTAssertEqual(try JSONDecoder().decode(DDPMConfiguration.self, from: Data(legacy1000.utf8)), fresh)
    }

    func testConfiguration_roundTripsThroughJSONWithTheScaling() throws {
        for (steps, scaling) in [(500, TimestepScaling.floor), (2000, .real), (2000, .floor), (500, .real)] {
            var configuration = DDPMConfiguration(dataDimension: 3, likelihood: .discrete(levels: 17))
            configuration.timestepCount = steps
            configuration.timestepScaling = scaling
            let data = try JSONEncoder().encode(configuration)
            XCTAssertTrue(String(decoding: data, as: UTF8.self).contains(#""timestepScaling":"\#(scaling.rawValue)""#))
            XCTAssertEqual(try JSONDecoder().decode(DDPMConfiguration.self, from: data), configuration)
        }
    }
}
