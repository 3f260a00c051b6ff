import Core
import Evaluation
import Foundation
import Report
import XCTest

/// Hand-made inputs for the lesson reports: every per-example value is chosen, so each check's
/// mean and standard error are known exactly.
enum LessonFixtures {
    static let n = 20

    /// A fixed zero-mean pattern of `n` values with sample standard deviation 1 (variant `k`).
    static func pattern(_ k: Int) -> [Double] {
        let raw = (0..<n).map { i -> Double in
            let x = sin(Double(i * (2 * k + 3)) + Double(k))
            return x
        }
        let mean = raw.reduce(0, +) / Double(n)
        let centered = raw.map { $0 - mean }
        let sd = (centered.map { $0 * $0 }.reduce(0, +) / Double(n - 1)).squareRoot()
        return centered.map { $0 / sd }
    }

    /// `mean + spread · pattern(k)`: mean exactly `mean`, standard error `spread / √n`.
    static func values(_ mean: Double, spread: Double, _ k: Int = 0) -> [Double] {
        pattern(k).map { mean + spread * $0 }
    }

    static func plus(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $0 + $1 } }

    /// A run whose evaluation has these per-example values; the reconstruction is set so that
    /// reconstruction − Σ KL equals `elbo` exactly.
    static func run(model: ModelKind, layers: Int, dataset: String = "gmm2d", elbo: [Double], counts: [Int], iwae: [[Double]],
                    logDensity: [Double]?, layerKL: [[Double]]? = nil, encoderParameters: Int? = nil, steps: Int = 2000) -> RunSummary {
        let kl = layerKL ?? (0..<layers).map { _ in [Double](repeating: 1.0 / Double(layers), count: elbo.count) }
        var reconstruction = elbo
        for layer in kl { for i in reconstruction.indices { reconstruction[i] += layer[i] } }
        let names = model == .ddpm ? (1...layers).map { "L_\($0)" } : (model == .vae ? ["z"] : (1...layers).map { "z\($0)" })
        let evaluation = ModelEvaluation(exampleCount: elbo.count, dataDimension: 2, sampleCounts: counts, elbo: elbo,
                                         reconstruction: reconstruction, layerNames: names, layerKL: kl, iwae: iwae,
                                         logDensity: logDensity)
        let encoder = encoderParameters ?? (model == .ddpm ? 0 : 1000 * layers)
        let description = model == .ddpm ? "T = \(layers), cosine" : "latents \(layers)"
        return Fixtures.run(path: "Runs/lessons/\(model)-\(layers)-\(dataset).h5", model: model, description: description,
                            datasetName: dataset, encoderParameters: encoder, decoderParameters: 2000, latentLayers: layers,
                            trainingSteps: steps, trainingSeconds: 10, seed: 0, evaluation: evaluation,
                            samples: [0.1, 0.2, -0.3, 0.4], dataPoints: [0.0, 0.1, 0.2, 0.3])
    }

    static let density = values(-0.4, spread: 0.5, 9)

    /// A run on gmm2d whose bounds climb as they should: IWAE_K = ELBO + gain(K) (+ small noise),
    /// all below the data's own log-density.
    static func goodRun(model: ModelKind, layers: Int, gap: Double = 0.5, dataset: String = "gmm2d", offset: Int = 0) -> RunSummary {
        let elbo = plus(density, values(-1.0 - gap, spread: 0.3, 1 + offset))
        let gains = [0.0, 0.6, 0.85, 0.95].map { $0 * gap }
        let iwae = gains.enumerated().map { j, g in plus(elbo, values(g, spread: 0.02, 2 + j + offset)) }
        return run(model: model, layers: layers, dataset: dataset, elbo: elbo, counts: [1, 10, 100, 1000], iwae: iwae,
                   logDensity: density)
    }

    static let footer = LessonFooter(command: "compare lesson 1", mode: "full", sizes: ["every run 2,000 steps"], lessonSeconds: 12.5,
                                     totalSeconds: 60, reproduce: ["compare datasets make gmm2d"])

    /// The Markdown of a report (its first file).
    static func markdown(_ files: [ReportFile]) -> String { files[0].text }
}

/// The statements shared by every lesson report: the verdict line and the failure wording.
func assertHolds(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(text.contains("**Verdict: the statement holds.**"), "verdict missing:\n\(text.prefix(1500))", file: file, line: line)
    XCTAssertFalse(text.contains("DOES NOT HOLD"), file: file, line: line)
    XCTAssertFalse(text.contains("Does not hold:"), file: file, line: line)
}

func assertDoesNotHold(_ text: String, statement: String, reason: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(text.contains("do NOT hold"), "verdict missing", file: file, line: line)
    let failures = text.split(separator: "\n").filter { $0.hasPrefix("- **Does not hold:**") }
    XCTAssertFalse(failures.isEmpty, "no failure line", file: file, line: line)
    XCTAssertTrue(failures.contains { $0.contains(statement) }, "no failure line names '\(statement)': \(failures)", file: file, line: line)
    XCTAssertTrue(failures.contains { $0.contains(statement) && $0.contains(reason) },
                  "the failure of '\(statement)' does not give the reason '\(reason)': \(failures)", file: file, line: line)
}

final class LessonSharedTests: XCTestCase {
    func testFixturePattern_hasZeroMeanAndUnitSpread() {
        let estimate = MeanEstimate(LessonFixtures.values(2, spread: 0.5, 3))
        XCTAssertEqual(estimate.mean, 2, accuracy: 1e-12)
        XCTAssertEqual(estimate.standardError, 0.5 / Double(LessonFixtures.n).squareRoot(), accuracy: 1e-12)
    }

    func testCheck_dropsTheReasonWhenItHolds() {
        let check = LessonCheck(statement: "a ≤ b", subject: "x", measured: "1", holds: true, reason: "never shown")
        XCTAssertNil(check.reason)
        let failing = LessonCheck(statement: "a ≤ b", subject: "x", measured: "1", holds: false, reason: nil)
        XCTAssertNotNil(failing.reason)
    }

    func testGaussianKL_matchesTheClosedForm() {
        // ½ [v + μ² − 1 − log v] per dimension: (0.5 + 1 − 1 − log 0.5)/2 + (2 + 0 − 1 − log 2)/2.
        let expected = 0.5 * (0.5 + 1 - 1 - log(0.5)) + 0.5 * (2 - 1 - log(2.0))
        XCTAssertEqual(gaussianKLToStandardNormal(mean: [1, 0], variance: [0.5, 2]), expected, accuracy: 1e-12)
        XCTAssertEqual(gaussianKLToStandardNormal(mean: [0, 0], variance: [1, 1]), 0, accuracy: 1e-15)
    }

    func testInformationLowerBound_isZeroForIdenticalCodesAndLogNForSeparatedOnes() {
        let n = 16
        let noise = (0..<n).map { i in [sin(Double(i)), cos(Double(i))] }
        let same = informationLowerBoundTerms(means: [[Double]](repeating: [0.3, -0.2], count: n),
                                              variances: [[Double]](repeating: [1, 1], count: n), noise: noise)
        for term in same { XCTAssertEqual(term, 0, accuracy: 1e-12) }
        let apart = informationLowerBoundTerms(means: (0..<n).map { [Double($0) * 100, 0] },
                                               variances: [[Double]](repeating: [1e-2, 1e-2], count: n), noise: noise)
        XCTAssertEqual(MeanEstimate(apart).mean, log(Double(n)), accuracy: 1e-9)
    }

    func testDiffusionProfile_boundsShrinkWithNoiseAndLowerStaysBelowUpper() {
        let data = (0..<30).map { i in [2 * cos(Double(i)), 2 * sin(Double(i))] }
        let alphas = [0.99, 0.5, 1e-6]
        let profile = diffusionInformationProfile(label: "DDPM (T = 3)", data: data, alphasCumprod: alphas, steps: [1, 2, 3],
                                                  noise: { t in (0..<30).map { i in [sin(Double(i * t)), cos(Double(i + t))] } })
        XCTAssertEqual(profile.steps, [1, 2, 3])
        XCTAssertGreaterThan(profile.upper[0].mean, profile.upper[1].mean)
        XCTAssertGreaterThan(profile.upper[1].mean, profile.upper[2].mean)
        XCTAssertLessThan(profile.upper[2].mean, 1e-4)
        XCTAssertLessThan(profile.lower[2].mean, 1e-3)
        for t in 0..<3 { XCTAssertLessThanOrEqual(profile.lower[t].mean, log(30.0) + 1e-9) }
    }
}
