import Foundation
import XCTest

/// `compare eval --denoiser oracle` through the real binary: a DDPM checkpoint of gmm2d is
/// evaluated with the closed-form oracle denoiser, the result is printed, and no file changes
/// (the refusals are in `BadInputCorpus.oracleDenoiser`).
final class OracleDenoiserCLITests: XCTestCase {
    func testOracleEval_printsAndLeavesEveryFileAsItWas() throws {
        let folder = try ScratchFolder("oracle-cli")
        defer { folder.remove() }
        try runCompareSucceeding(["datasets", "make", "gmm2d", "--train", "64", "--test", "16", "--out", "data.h5"], in: folder)
        try runCompareSucceeding(["train", "--model", "ddpm", "--dataset", "data.h5", "--steps", "2", "--batch-size", "16", "--hidden", "8",
                                  "--timesteps", "20", "--variance", "learned-range", "--loss", "hybrid", "--out", "ddpm.h5"], in: folder)
        let before = folder.snapshot()
        let result = try runCompareSucceeding(["eval", "ddpm.h5", "--denoiser", "oracle", "--samples", "1,4", "--examples", "8",
                                               "--elbo-draws", "1"], in: folder)
        XCTAssertTrue(result.stdout.hasPrefix("ddpm.h5: ddpm with the oracle denoiser, 8 test examples"), result.stdout)
        for fragment in ["IWAE_4", "KL_joint", "T = 20", "fixed-small variance", "printed only, /evaluation of ddpm.h5 is left to its network"] {
            XCTAssertTrue(result.stdout.contains(fragment), "lacks '\(fragment)': \(result.stdout)")
        }
        XCTAssertEqual(folder.snapshot(), before, "the oracle's evaluation must not write, lock or change any file")
        // The network's own evaluation still works and is stored as before.
        try runCompareSucceeding(["eval", "ddpm.h5", "--samples", "1,4", "--examples", "8", "--elbo-draws", "1"], in: folder)
        XCTAssertNotEqual(try folder.bytes("ddpm.h5"), before["ddpm.h5"].map { [UInt8]($0) })
    }
}
