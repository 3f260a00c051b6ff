import Core
import DatasetMakers
import Foundation
import Pipeline
import Store
import XCTest

/// The oracle denoiser's mixture read back from a dataset file's `/density`
/// (docs/math.md#oracle-denoiser), and the `--denoiser` option of an evaluation request.
final class OracleDatasetDensityTests: XCTestCase {
    /// A dataset made by `compare datasets make NAME`, read back from its file.
    func madeDataset(_ maker: DatasetMaker, dimension: Int? = nil) throws -> LoadedDataset {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("oracle-density-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("\(maker.rawValue).h5").path
        try DatasetMakeRequest(maker: maker, trainCount: 10, testCount: 10, dimension: dimension, out: path).run()
        return try DatasetFile.read(path)
    }

    func testMixtureFromAMadeFile_equalsTheMakersMixture() throws {
        let ring = try madeDataset(.gmm2d)
        XCTAssertEqual(try GaussianMixture(densityFamily: ring.metadata.densityFamily, parameters: ring.densityParameters),
                       try RingOfGaussians().mixture)
        let gaussian = try madeDataset(.gaussian, dimension: 3)
        XCTAssertEqual(try GaussianMixture(densityFamily: gaussian.metadata.densityFamily, parameters: gaussian.densityParameters),
                       try CorrelatedGaussian(dimension: 3).mixture)
    }

    func testMixtureFromAFile_refusesOtherDensitiesInOneLine() throws {
        let checkerboard = try madeDataset(.checkerboard)
        XCTAssertThrowsError(try GaussianMixture(densityFamily: checkerboard.metadata.densityFamily, parameters: checkerboard.densityParameters)) {
            XCTAssertEqual("\($0)", "the dataset's density is 'uniform-on-squares', not a Gaussian mixture ('gaussian-mixture' or 'gaussian')")
        }
        XCTAssertThrowsError(try GaussianMixture(densityFamily: nil, parameters: [])) { XCTAssertTrue("\($0)".contains("stores no density")) }
        XCTAssertThrowsError(try GaussianMixture(densityFamily: "gaussian-mixture", parameters: [])) {
            XCTAssertTrue("\($0)".contains("/density/means"), "\($0)")
        }
        let negative = [NamedArray(name: "means", shape: [1, 2], values: [0, 0]), NamedArray(name: "standard_deviations", shape: [1], values: [-1]),
                        NamedArray(name: "weights", shape: [1], values: [1])]
        XCTAssertThrowsError(try GaussianMixture(densityFamily: "gaussian-mixture", parameters: negative)) {
            XCTAssertFalse("\($0)".contains("\n"))
            XCTAssertEqual("\($0)", "Gaussian mixture: component 0 has standard deviation -1.0; expected positive and finite")
        }
    }

    func testEvaluationRequest_namesTheOracleOnlyWhenChosen() {
        XCTAssertEqual(EvaluationRequest(checkpoint: "r.h5").commandLine, "compare eval r.h5")
        XCTAssertEqual(EvaluationRequest(checkpoint: "r.h5", examples: 20, denoiser: .oracle).commandLine,
                       "compare eval r.h5 --examples 20 --denoiser oracle")
    }
}
