import Evaluation
import XCTest

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// IWAE_K by disjoint groups against independent computations and its known expectations.
final class ImportanceWeightedBoundTests: XCTestCase {
    /// Row-major [K_max, n] log weights from per-example columns.
    func rowMajor(_ columns: [[Double]]) -> [Double] {
        let samples = columns[0].count
        return (0..<samples).flatMap { k in columns.map { $0[k] } }
    }

    func testGrouping_matchesANestedLoopRecomputation() {
        var random = TestRandom(seed: 3)
        let n = 5, largest = 12, counts = [1, 2, 3, 4, 6, 12]
        let columns = (0..<n).map { _ in (0..<largest).map { _ in 0.8 * random.nextNormal() - 1 } }
        let bounds = importanceWeightedBounds(logWeights: rowMajor(columns), exampleCount: n, sampleCounts: counts)
        XCTAssertEqual(bounds.count, counts.count)
        for (j, k) in counts.enumerated() {
            XCTAssertEqual(bounds[j].count, n)
            for i in 0..<n {
                // Direct: the mean over groups g of log((1/K) Σ_{k in g} e^{w}), no maximum subtracted.
                var total = 0.0
                for g in 0..<(largest / k) {
                    var sum = 0.0
                    for s in (g * k)..<((g + 1) * k) { sum += exp(columns[i][s]) }
                    total += log(sum / Double(k))
                }
                XCTAssertEqual(bounds[j][i], total / Double(largest / k), accuracy: 1e-13, "K = \(k), example \(i)")
            }
        }
    }

    func testGroups_areContiguousSampleRuns() {
        // Weights 0, 0, L, L: contiguous pairs give (log 1 + log e^L)/2 = L/2; interleaved pairs
        // (0, L), (0, L) would give log((1 + e^L)/2). An off-by-one in the grouping changes the value.
        let L = 4.0
        XCTAssertEqual(importanceWeightedBound(logWeights: [0, 0, L, L], sampleCount: 2), L / 2, accuracy: 1e-15)
        XCTAssertEqual(importanceWeightedBound(logWeights: [0, 0, L, L], sampleCount: 4), log((2 + 2 * exp(L)) / 4), accuracy: 1e-14)
        // The row-major layout: sample k of example i at k · n + i.
        let bounds = importanceWeightedBounds(logWeights: [0, 1, 0, 1, L, 1, L, 1], exampleCount: 2, sampleCounts: [2])
        XCTAssertEqual(bounds[0][0], L / 2, accuracy: 1e-15)
        XCTAssertEqual(bounds[0][1], 1, accuracy: 1e-15)
    }

    func testIWAE1_isTheMeanLogWeight_soItsMeanIsTheELBOsOnTheSameWeights() {
        // With K = 1 every group is one weight: IWAE_1(x) = (1/K_max) Σ_k log w_k, the Monte Carlo
        // ELBO of the same draws. Equal up to rounding, example by example.
        var random = TestRandom(seed: 11)
        let columns = (0..<20).map { _ in (0..<8).map { _ in random.nextNormal() * 3 - 50 } }
        let iwae1 = importanceWeightedBounds(logWeights: rowMajor(columns), exampleCount: 20, sampleCounts: [1])[0]
        let elbo = columns.map { $0.reduce(0, +) / 8 }
        for i in 0..<20 { XCTAssertEqual(iwae1[i], elbo[i], accuracy: 1e-12) }
        XCTAssertEqual(MeanEstimate(iwae1).mean, MeanEstimate(elbo).mean, accuracy: 1e-12)
    }

    func testLargestK_isLogMeanExpOfAllWeights() {
        let weights = [-3.0, 2.5, 0.1, -7, 1.25, 0]
        XCTAssertEqual(importanceWeightedBound(logWeights: weights, sampleCount: 6), logMeanExp(weights))
    }

    /// log w ~ N(μ, σ²): E[IWAE_1] = μ, E[IWAE_K] increases in K towards log E[w] = μ + σ²/2, with
    /// bias ≈ −(e^{σ²} − 1)/(2K) for large K (delta method).
    func testOnLogNormalWeights_expectationIncreasesInKTowardsLogMeanWeight() {
        var random = TestRandom(seed: 2024)
        let n = 4000, largest = 64, counts = [1, 4, 16, 64]
        let mu = -2.0, sigma = 1.0
        let columns = (0..<n).map { _ in (0..<largest).map { _ in mu + sigma * random.nextNormal() } }
        let bounds = importanceWeightedBounds(logWeights: rowMajor(columns), exampleCount: n, sampleCounts: counts)
        XCTAssertEqual(MeanEstimate(bounds[0]).mean, mu, accuracy: 3 * MeanEstimate(bounds[0]).standardError)
        for j in 1..<counts.count {
            let step = MeanEstimate(pairedDifferenceOf: bounds[j], minus: bounds[j - 1])
            XCTAssertGreaterThan(step.mean, 3 * step.standardError, "IWAE_\(counts[j]) − IWAE_\(counts[j - 1]) = \(step)")
        }
        let top = MeanEstimate(bounds[3])
        let limit = mu + sigma * sigma / 2
        let bias = (exp(sigma * sigma) - 1) / (2 * 64)
        XCTAssertLessThan(top.mean, limit, "IWAE_K stays below log E[w] in expectation")
        XCTAssertEqual(top.mean, limit - bias, accuracy: 3 * top.standardError + 0.01, "IWAE_64 \(top)")
    }

    func testValidatedSampleCounts_sortsDeduplicatesAndRefusesBadSets() throws {
        XCTAssertEqual(try validatedSampleCounts([100, 1, 10, 10]), [1, 10, 100])
        XCTAssertThrowsError(try validatedSampleCounts([])) { XCTAssertEqual("\($0)", "--samples needs at least one K") }
        XCTAssertThrowsError(try validatedSampleCounts([0, 4]))
        XCTAssertThrowsError(try validatedSampleCounts([3, 10])) {
            XCTAssertEqual("\($0)", "--samples: the largest K (10) must be a multiple of every K, and 3 does not divide it")
        }
    }
}
