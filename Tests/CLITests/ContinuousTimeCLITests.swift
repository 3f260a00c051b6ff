import Foundation
import XCTest

/// A continuous-time DDPM through the real binary: trained with `--timesteps continuous`,
/// evaluated at two T (ELBO_T, IWAE_K and ELBO_∞ beside), sampled at a third; the bad
/// combinations of options are in `BadInputCorpus.continuousTime`.
final class ContinuousTimeCLITests: XCTestCase {
    func testTrainEvalAndSample_atSeveralT() throws {
        let folder = try ScratchFolder("continuous-cli")
        defer { folder.remove() }
        try runCompareSucceeding(["datasets", "make", "gmm2d", "--train", "256", "--test", "32", "--out", "data.h5"], in: folder)
        let train = try runCompareSucceeding(["train", "--model", "ddpm", "--dataset", "data.h5", "--timesteps", "continuous", "--schedule", "learned",
                                              "--evaluation-timesteps", "8", "--steps", "30", "--batch-size", "32", "--hidden", "16",
                                              "--fourier-features", "0,1", "--out", "c.h5"], in: folder)
        XCTAssertTrue(train.stdout.contains("wrote c.h5: ddpm, 30 steps"), train.stdout)
        let atStored = try runCompareSucceeding(["eval", "c.h5", "--samples", "1,4", "--examples", "16", "--elbo-draws", "2"], in: folder)
        XCTAssertTrue(atStored.stdout.contains("ELBO_∞"), atStored.stdout)
        XCTAssertTrue(atStored.stdout.contains("the rows above read the model at T = 8"), atStored.stdout)
        let atThree = try runCompareSucceeding(["eval", "c.h5", "--samples", "1,4", "--examples", "16", "--elbo-draws", "2", "--timesteps", "3"], in: folder)
        XCTAssertTrue(atThree.stdout.contains("the rows above read the model at T = 3"), atThree.stdout)
        // ELBO_∞ is drawn from a stream of its own: the same line at both T.
        func limitLine(_ text: String) -> String? { text.split(separator: "\n").first { $0.contains("ELBO_∞") }.map { String($0.prefix(40)) } }
        XCTAssertEqual(limitLine(atStored.stdout), limitLine(atThree.stdout))
        XCTAssertNotEqual(atStored.stdout.split(separator: "\n").first { $0.contains("  ELBO ") },
                          atThree.stdout.split(separator: "\n").first { $0.contains("  ELBO ") })
        // ELBO_T ≤ ELBO_∞, checked on the paired difference.
        XCTAssertTrue(atThree.stdout.contains("ELBO_∞ − ELBO_T"), atThree.stdout)
        // More draws of t for ELBO_∞ alone: the rows above do not move; ELBO_∞'s line does.
        let manyDraws = try runCompareSucceeding(["eval", "c.h5", "--samples", "1,4", "--examples", "16", "--elbo-draws", "2", "--timesteps", "3",
                                                  "--continuous-draws", "50"], in: folder)
        func rows(_ text: String) -> [Substring] { text.split(separator: "\n").filter { $0.hasPrefix("  ELBO ") || $0.hasPrefix("  IWAE") } }
        XCTAssertEqual(rows(manyDraws.stdout), rows(atThree.stdout))
        XCTAssertNotEqual(limitLine(manyDraws.stdout), limitLine(atThree.stdout))
        try runCompareSucceeding(["sample", "c.h5", "--count", "16", "--out", "s.h5", "--timesteps", "5"], in: folder)
        XCTAssertNotNil(try? folder.bytes("s.h5"))
        // The report reads the row at the evaluation's T (3: four latent layers) and gives ELBO_∞ beside.
        try runCompareSucceeding(["report", "c.h5", "--out", "r.md"], in: folder)
        let report = String(decoding: try folder.bytes("r.md"), as: UTF8.self)
        XCTAssertTrue(report.contains("is a continuous-time DDPM: its row reads it at T = 3 (4 latent layers)"), report)
        XCTAssertTrue(report.contains("ELBO_∞ = "), report)
        // The paired difference stored by the last evaluation, with its verdict.
        XCTAssertTrue(report.contains("Paired over the examples, ELBO_∞ − ELBO_T = "), report)
        // Where the learned schedule's end points went in training (they start at the options' values).
        XCTAssertTrue(report.contains("Its learned schedule ends at γ(0) = "), report)
    }
}
