import Foundation
import XCTest

/// `compare baseline` through the real binary, the way the flagship reports use it: a digits
/// import, both baselines, a VAE beside them in `compare report`, and `compare eval` of a
/// baseline giving back its stored evaluation bit for bit (the refusals are in
/// `BadInputCorpus.baselines`).
final class BaselineCLITests: XCTestCase {
    func testBaseline_evalAndReport_throughTheBinary() throws {
        let folder = try ScratchFolder("baseline-cli")
        defer { folder.remove() }
        try folder.write(digitsFixtureCSV(), to: "digits.csv.gz")
        try runCompareSucceeding(["datasets", "import", "digits", "--source", "digits.csv.gz", "--out", "digits.h5"], in: folder)

        let pixel = try runCompareSucceeding(["baseline", "--dataset", "digits.h5", "--out", "pixel.h5"], in: folder)
        XCTAssertTrue(pixel.stdout.hasPrefix("wrote pixel.h5: per-pixel categorical (add-1): exact log p(x) = "), pixel.stdout)
        XCTAssertTrue(pixel.stdout.contains("on 300 test examples") && pixel.stdout.contains("bits/dim"), pixel.stdout)
        XCTAssertEqual(pixel.stderr, "")
        // The default output path: Runs/baseline-KIND-DATASET.h5.
        let uniform = try runCompareSucceeding(["baseline", "--dataset", "digits.h5", "--kind", "uniform"], in: folder)
        XCTAssertTrue(uniform.stdout.hasPrefix("wrote Runs/baseline-uniform-digits.h5: uniform: exact log p(x) = -181.3257 ± 0.0000 nats"),
                      "-64 log 17 = -181.3257: \(uniform.stdout)")

        // eval recomputes the same evaluation, whatever its sampling options.
        let before = try checkpointDigests("pixel.h5", in: folder)
        let eval = try runCompareSucceeding(["eval", "pixel.h5", "--samples", "1,10", "--seed", "5"], in: folder)
        XCTAssertTrue(eval.stdout.contains("(exact: ELBO = IWAE_K = log p(x) for every K"), eval.stdout)
        let after = try checkpointDigests("pixel.h5", in: folder)
        for part in ["header", "parameters", "attributes"] { XCTAssertEqual(after[part], before[part], part) }

        try runCompareSucceeding(["train", "--model", "vae", "--dataset", "digits.h5", "--steps", "20", "--batch-size", "32", "--hidden", "16",
                                  "--out", "vae.h5"], in: folder)
        try runCompareSucceeding(["eval", "vae.h5", "--samples", "1,4", "--examples", "50", "--elbo-draws", "1"], in: folder)
        try runCompareSucceeding(["report", "vae.h5", "Runs/baseline-uniform-digits.h5", "pixel.h5", "--out", "report.md"], in: folder)
        let markdown = try String(contentsOfFile: folder.path("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("| baseline: uniform | 0 | 0 | 0 | -181.3 ± 0 | -181.3 ± 0 | 0 (exact) | 4.087 ± 0 | 4.087 ± 0 | — | — |"), markdown)
        XCTAssertTrue(markdown.contains("| baseline: per-pixel categorical (add-1) | 0 | 1,024 | 0 | "), markdown)
        XCTAssertTrue(markdown.contains("same first n = 50 test examples as the models"), markdown)
        XCTAssertTrue(markdown.contains("| beats the per-pixel baseline |"), markdown)
        XCTAssertTrue(markdown.contains("# baselines\ncompare baseline --dataset digits.h5 --kind uniform\ncompare baseline --dataset digits.h5 --out pixel.h5\ncompare eval pixel.h5\n"),
                      markdown)
        XCTAssertEqual(folder.temporaryFiles(), [])
    }
}
