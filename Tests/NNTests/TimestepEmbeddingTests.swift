import Foundation
import NN
import Tensor
import XCTest

final class TimestepEmbeddingTests: XCTestCase {
    /// e(t) = [sin(t f₀), …, sin(t f_{h−1}), cos(t f₀), …, cos(t f_{h−1})], fᵢ = exp(−ln(10000)·i/h).
    func testSinusoidalTimestepEmbedding_matchesFormula() {
        let timesteps = [0, 1, 7, 100, 999]
        for dimension in [2, 8, 64] {
            let e = sinusoidalTimestepEmbedding(timesteps, dimension: dimension)
            XCTAssertEqual(e.shape, [timesteps.count, dimension])
            XCTAssertFalse(e.requiresGradient)
            let half = dimension / 2
            for (row, t) in timesteps.enumerated() {
                for i in 0..<half {
                    let f = exp(-log(10000.0) * Double(i) / Double(half))
                    let angle = Double(t) * f
                    // The angle is formed in Float: its rounding (≲ 1e-7 · t) bounds the error.
                    let tolerance = 2e-7 * Double(t) + 1e-6
                    XCTAssertEqual(Double(e.storage[row * dimension + i]), sin(angle), accuracy: tolerance, "sin t=\(t) i=\(i) d=\(dimension)")
                    XCTAssertEqual(Double(e.storage[row * dimension + half + i]), cos(angle), accuracy: tolerance, "cos t=\(t) i=\(i) d=\(dimension)")
                }
            }
        }
    }

    func testSinusoidalTimestepEmbedding_knownValues() {
        // t = 0: sines 0, cosines 1; the first frequency is 1, so column 0 is sin t.
        let e = sinusoidalTimestepEmbedding([0, 3], dimension: 4)
        XCTAssertEqual(Array(e.storage[0..<4]), [0, 0, 1, 1])
        XCTAssertEqual(Double(e.storage[4]), sin(3.0), accuracy: 1e-6)
        XCTAssertEqual(Double(e.storage[5]), sin(3.0 / 100), accuracy: 1e-6)  // f₁ = 10000^{−1/2}
        XCTAssertEqual(Double(e.storage[6]), cos(3.0), accuracy: 1e-6)
        XCTAssertEqual(Double(e.storage[7]), cos(3.0 / 100), accuracy: 1e-6)
    }

    func testSinusoidalTimestepEmbedding_distinctForDistinctTimesteps() {
        let e = sinusoidalTimestepEmbedding(Array(0..<1000), dimension: 32)
        var rows = Set<[Float]>()
        for t in 0..<1000 { rows.insert(Array(e.storage[(t * 32)..<((t + 1) * 32)])) }
        XCTAssertEqual(rows.count, 1000)
    }

    /// The table's rows are the function's values, bit for bit, in any order and repeated.
    func testEmbeddingTable_rowsEqualTheFunction() {
        for dimension in [2, 32, 128] {
            let table = SinusoidalEmbeddingTable(maximumTimestep: 1000, dimension: dimension)
            let timesteps = [1000, 0, 7, 7, 500, 1, 999] + (0..<200).map { ($0 * 37) % 1001 }
            let looked = table(timesteps)
            XCTAssertEqual(looked.shape, [timesteps.count, dimension])
            XCTAssertFalse(looked.requiresGradient)
            XCTAssertEqual(looked.storage, sinusoidalTimestepEmbedding(timesteps, dimension: dimension).storage, "d = \(dimension)")
        }
        XCTAssertEqual(SinusoidalEmbeddingTable(maximumTimestep: 3, dimension: 4)([]).shape, [0, 4])
    }
}
