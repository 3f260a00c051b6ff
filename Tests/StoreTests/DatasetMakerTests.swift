import DatasetMakers
import Foundation
import Store
import XCTest

final class DatasetMakerTests: TemporaryFolderTestCase {
    func testMakers_sameSeedGivesSameArraysAndOtherSeedDiffers() throws {
        for maker in DatasetMaker.allCases {
            let first = try maker.make(trainCount: 300, testCount: 50, seed: 11)
            let second = try maker.make(trainCount: 300, testCount: 50, seed: 11)
            let other = try maker.make(trainCount: 300, testCount: 50, seed: 12)
            XCTAssertEqual(first.train, second.train, maker.rawValue)
            XCTAssertEqual(first.test, second.test, maker.rawValue)
            XCTAssertEqual(first.trainLogDensity, second.trainLogDensity, maker.rawValue)
            XCTAssertNotEqual(first.train, other.train, maker.rawValue)
            XCTAssertNotEqual(first.test, other.test, maker.rawValue)
            XCTAssertNotEqual(first.train.prefix(100), first.test.prefix(100), "\(maker.rawValue): splits are independent")
            XCTAssertEqual(first.train.count, 300 * first.dimension)
            XCTAssertEqual(first.trainLogDensity != nil, maker.hasKnownDensity)
            XCTAssertTrue(first.train.allSatisfy(\.isFinite))
            // The test set does not depend on the number of training examples.
            XCTAssertEqual(try maker.make(trainCount: 10, testCount: 50, seed: 11).test, first.test, maker.rawValue)
        }
    }

    func testMakers_rejectBadOptionsWithOneLine() {
        XCTAssertThrowsError(try DatasetMaker.named("spiral")) { error in
            XCTAssertTrue("\(error)".contains("unknown dataset 'spiral'"))
        }
        XCTAssertThrowsError(try DatasetMaker.gmm2d.make(trainCount: 0)) { XCTAssertTrue("\($0)".contains("--train 0")) }
        XCTAssertThrowsError(try DatasetMaker.gmm2d.make(testCount: -1)) { XCTAssertTrue("\($0)".contains("--test -1")) }
        XCTAssertThrowsError(try DatasetMaker.gmm2d.make(dimension: 3)) { XCTAssertTrue("\($0)".contains("--dimension")) }
        XCTAssertThrowsError(try DatasetMaker.gaussian.make(dimension: 0)) { XCTAssertTrue("\($0)".contains("--dimension 0")) }
    }

    func testGaussian_sampleMeanAndCovarianceWithinFiveStandardErrors() throws {
        let dimension = 3
        let count = 20_000
        let data = try DatasetMaker.gaussian.make(trainCount: count, testCount: 1, seed: 5, dimension: dimension)
        let distribution = CorrelatedGaussian(dimension: dimension)
        let rows = (0..<count).map { row in (0..<dimension).map { Double(data.train[row * dimension + $0]) } }
        let sigma = distribution.covariance
        XCTAssertNotEqual(sigma[0][1], 0, "the covariance must not be diagonal")
        for i in 0..<dimension {
            let mean = rows.reduce(0) { $0 + $1[i] } / Double(count)
            let standardError = (sigma[i][i] / Double(count)).squareRoot()
            XCTAssertEqual(mean, distribution.mean[i], accuracy: 5 * standardError, "mean[\(i)]")
        }
        for i in 0..<dimension {
            for j in 0..<dimension {
                let products = rows.map { ($0[i] - distribution.mean[i]) * ($0[j] - distribution.mean[j]) }
                let estimate = products.reduce(0, +) / Double(count)
                // Var[(x_i − μ_i)(x_j − μ_j)] = Σ_ii Σ_jj + Σ_ij² for a Gaussian.
                let standardError = ((sigma[i][i] * sigma[j][j] + sigma[i][j] * sigma[i][j]) / Double(count)).squareRoot()
                XCTAssertEqual(estimate, sigma[i][j], accuracy: 5 * standardError, "covariance[\(i)][\(j)]")
            }
        }
    }

    func testCheckerboard_samplesOnlyOnDarkSquaresAndCoverAllEight() throws {
        let data = try DatasetMaker.checkerboard.make(trainCount: 8000, testCount: 2000, seed: 3)
        var counts = [Int](repeating: 0, count: 16)
        for values in [data.train, data.test] {
            for row in 0..<(values.count / 2) {
                let x = Double(values[2 * row]), y = Double(values[2 * row + 1])
                XCTAssertTrue((-2...2).contains(x) && (-2...2).contains(y), "(\(x), \(y)) off the board")
                let column = min(3, Int((x + 2).rounded(.down))), boardRow = min(3, Int((y + 2).rounded(.down)))
                XCTAssertEqual((column + boardRow) % 2, 0, "(\(x), \(y)) lies on a light square")
                counts[column * 4 + boardRow] += 1
            }
        }
        let dark = counts.enumerated().filter { ($0.offset / 4 + $0.offset % 4) % 2 == 0 }.map(\.element)
        let expected = 10_000.0 / 8, standardError = (10_000 * (1.0 / 8) * (7.0 / 8)).squareRoot()
        for count in dark { XCTAssertEqual(Double(count), expected, accuracy: 5 * standardError) }
        XCTAssertEqual(data.trainLogDensity!.first, -log(8.0))
        XCTAssertTrue(data.trainLogDensity!.allSatisfy { $0 == -log(8.0) })
    }

    func testRingOfGaussians_componentMeansAndWeightsMatch() throws {
        let ring = RingOfGaussians()
        let data = try DatasetMaker.gmm2d.make(trainCount: 16_000, testCount: 10, seed: 9)
        var sums = [[Double]](repeating: [0, 0], count: 8), counts = [Int](repeating: 0, count: 8)
        for row in 0..<data.trainCount {
            let point = [Double(data.train[2 * row]), Double(data.train[2 * row + 1])]
            let nearest = (0..<8).min { a, b in
                hypot(point[0] - ring.means[a][0], point[1] - ring.means[a][1])
                    < hypot(point[0] - ring.means[b][0], point[1] - ring.means[b][1])
            }!
            sums[nearest][0] += point[0]
            sums[nearest][1] += point[1]
            counts[nearest] += 1
        }
        for k in 0..<8 {
            XCTAssertEqual(hypot(ring.means[k][0], ring.means[k][1]), 2, accuracy: 1e-12)
            let standardError = 0.1 / Double(counts[k]).squareRoot()
            XCTAssertEqual(sums[k][0] / Double(counts[k]), ring.means[k][0], accuracy: 5 * standardError)
            XCTAssertEqual(sums[k][1] / Double(counts[k]), ring.means[k][1], accuracy: 5 * standardError)
            let share = 16_000.0 / 8, spread = (16_000 * (1.0 / 8) * (7.0 / 8)).squareRoot()
            XCTAssertEqual(Double(counts[k]), share, accuracy: 5 * spread)
        }
    }

    /// Writes each known-density dataset, reads the file back and recomputes log q(x0) from
    /// the stored parameters with formulas written independently of the makers.
    func testStoredLogDensity_equalsIndependentRecomputationFromStoredParameters() throws {
        for (maker, dimension) in [(DatasetMaker.gmm2d, 2), (.checkerboard, 2), (.gaussian, 2), (.gaussian, 4)] {
            let filePath = path("\(maker.rawValue)-\(dimension).h5")
            let generated = try maker.make(trainCount: 500, testCount: 200, seed: 1, dimension: maker == .gaussian ? dimension : nil)
            try DatasetFile.write(DatasetContents(generated: generated), to: filePath)
            let dataset = try DatasetFile.read(filePath)
            XCTAssertEqual(dataset.dimension, dimension)
            let parameters = Dictionary(uniqueKeysWithValues: dataset.densityParameters.map { ($0.name, $0) })
            for (values, stored) in [(dataset.train, dataset.trainLogDensity!), (dataset.test, dataset.testLogDensity!)] {
                for row in 0..<stored.count {
                    let point = (0..<dimension).map { Double(values[row * dimension + $0]) }
                    let recomputed: Double
                    switch maker {
                    case .gmm2d: recomputed = Self.mixtureLogDensity(point, parameters)
                    case .checkerboard: recomputed = Self.squaresLogDensity(point, parameters)
                    default: recomputed = Self.gaussianLogDensity(point, parameters)
                    }
                    XCTAssertEqual(stored[row], recomputed, accuracy: 1e-9, "\(maker.rawValue) row \(row)")
                }
            }
        }
    }

    private static func mixtureLogDensity(_ x: [Double], _ parameters: [String: NamedArray]) -> Double {
        let means = parameters["means"]!.values, scales = parameters["standard_deviations"]!.values
        let weights = parameters["weights"]!.values
        var total = 0.0
        for k in 0..<weights.count {
            let squared = pow(x[0] - means[2 * k], 2) + pow(x[1] - means[2 * k + 1], 2)
            total += weights[k] * exp(-squared / (2 * scales[k] * scales[k])) / (2 * Double.pi * scales[k] * scales[k])
        }
        return log(total)
    }

    private static func squaresLogDensity(_ x: [Double], _ parameters: [String: NamedArray]) -> Double {
        let squares = parameters["squares"]!.values
        let area = parameters["total_area"]!.values[0]
        for k in 0..<(squares.count / 4) where
            squares[4 * k] <= x[0] && x[0] <= squares[4 * k + 1] && squares[4 * k + 2] <= x[1] && x[1] <= squares[4 * k + 3] {
            return -log(area)
        }
        return -.infinity
    }

    /// log N(x; μ, Σ) through Gauss–Jordan elimination: Σ⁻¹(x − μ) and log det Σ from the pivots.
    private static func gaussianLogDensity(_ x: [Double], _ parameters: [String: NamedArray]) -> Double {
        let mean = parameters["mean"]!.values
        let size = mean.count
        var matrix = (0..<size).map { Array(parameters["covariance"]!.values[($0 * size)..<($0 * size + size)]) }
        var right = (0..<size).map { x[$0] - mean[$0] }
        let difference = right
        var logDeterminant = 0.0
        for pivot in 0..<size {
            let value = matrix[pivot][pivot]
            logDeterminant += log(value)
            for column in 0..<size { matrix[pivot][column] /= value }
            right[pivot] /= value
            for row in 0..<size where row != pivot {
                let factor = matrix[row][pivot]
                for column in 0..<size { matrix[row][column] -= factor * matrix[pivot][column] }
                right[row] -= factor * right[pivot]
            }
        }
        let quadratic = zip(difference, right).reduce(0) { $0 + $1.0 * $1.1 }
        return -0.5 * (Double(size) * log(2 * Double.pi) + logDeterminant + quadratic)
    }
}
