import Core
import Evaluation
import Report
import XCTest

/// Lesson 5's checks on fixtures: every check holds on consistent numbers, and each one fails on a
/// number planted to break exactly it.
final class Lesson5Tests: XCTestCase {
    typealias F = LessonFixtures
    static let T = 4

    /// A consistent profile: the oracle's loss scatters around tr Cov(ε|x_t) = C(t), the network's
    /// loss is the oracle's plus its score gap plus a zero-mean cross term; the oracle's distortion
    /// rises with t.
    func profile() -> ScoreMatchingProfile {
        let T = Self.T
        let trace = (1...T).map { t in F.values(0.5 * Double(t), spread: 0.1, t) }
        let oracle = (1...T).map { t in F.plus(trace[t - 1], F.values(0, spread: 0.05, 10 + t)) }
        let gap = (1...T).map { t in F.values(0.2 / Double(t), spread: 0.02, 20 + t).map { abs($0) } }
        let cross = (1...T).map { t in F.values(0, spread: 0.03, 30 + t) }
        let network = (0..<T).map { t in F.plus(F.plus(oracle[t], gap[t]), cross[t]) }
        let norm = (1...T).map { t in F.values(1.0 + Double(t), spread: 0.2, 40 + t) }
        let oracleStart = (1...T).map { t in F.values(0.1 * Double(t), spread: 0.01, 50 + t) }
        let networkStart = (1...T).map { t in F.values(0.12 * Double(t), spread: 0.01, 60 + t) }
        return ScoreMatchingProfile(dimension: 2, networkLoss: network, oracleLoss: oracle, scoreGap: gap, oracleNorm: norm,
                                    noiseCovarianceTrace: trace, networkStartError: networkStart, oracleStartError: oracleStart)
    }

    /// Oracle evaluations: ELBO below log q(x0) by `kl(T)` nats, improving with T.
    func oracles(kl: (Int) -> Double = { 2.0 / Double($0) }) -> [OracleEvaluation] {
        ["linear", "cosine"].flatMap { schedule in
            [1, 4].map { T -> OracleEvaluation in
                let elbo = F.plus(F.density, F.values(-kl(T), spread: 0.1, T))
                let run = F.run(model: .ddpm, layers: T, elbo: elbo, counts: [1], iwae: [elbo], logDensity: F.density)
                return OracleEvaluation(timesteps: T, schedule: schedule, variance: "fixed-small", evaluation: run.evaluation)
            }
        }
    }

    func input(profile: ScoreMatchingProfile? = nil, oracles: [OracleEvaluation]? = nil) -> Lesson5Input {
        Lesson5Input(trained: F.goodRun(model: .ddpm, layers: Self.T, gap: 1.0), profile: profile ?? self.profile(),
                     oracleSweep: oracles ?? self.oracles(), trainedSweep: [F.goodRun(model: .ddpm, layers: 1), F.goodRun(model: .ddpm, layers: 4)],
                     footer: F.footer)
    }

    func testConsistentNumbers_everyCheckHolds_andTheFilesAreWritten() throws {
        let checks = lesson5Checks(input())
        XCTAssertTrue(checks.allSatisfy(\.holds), checks.filter { !$0.holds }.map { "\($0.statement): \($0.measured)" }.joined(separator: "; "))
        // 3 identity/optimality checks, 4 ceilings, 2 "many steps win", 2 distortion steps on {1, 2, 4}.
        XCTAssertEqual(checks.count, 3 + 4 + 2 + 2)
        let files = try makeLesson5Report(input())
        XCTAssertEqual(files.map(\.name), ["lesson-5.md", "lesson-5-score.svg", "lesson-5-elbo.svg", "lesson-5-rate-distortion.svg"])
        let text = F.markdown(files)
        assertHolds(text)
        XCTAssertTrue(text.hasPrefix("# Lesson 5 — The score-matching view"))
    }

    /// A cross term with mean 0.3 (ε̂* is not E[ε | x_t]): Vincent's identity fails.
    func testPlantedCrossTerm_failsTheIdentity() throws {
        var p = profile()
        p.networkLoss = p.networkLoss.map { $0.map { $0 + 0.3 } }
        let text = F.markdown(try makeLesson5Report(input(profile: p)))
        assertDoesNotHold(text, statement: "DSM = ESM + C", reason: "the cross term has mean 0 only if")
    }

    /// A network whose loss is below the oracle's: impossible, and said so.
    func testPlantedNetworkBelowTheOracle_failsOptimality() throws {
        var p = profile()
        p.networkLoss = p.oracleLoss.map { $0.map { $0 - 0.2 } }
        p.scoreGap = p.scoreGap.map { $0.map { _ in 0 } }
        let checks = lesson5Checks(input(profile: p))
        XCTAssertEqual(checks.first { $0.statement.hasPrefix("no network beats the oracle") }?.holds, false)
    }

    /// An oracle ELBO above -H (a density error): the ceiling fails.
    func testPlantedELBOAboveEntropy_failsTheCeiling() throws {
        let text = F.markdown(try makeLesson5Report(input(oracles: oracles(kl: { $0 == 4 ? -0.5 : 2.0 }))))
        assertDoesNotHold(text, statement: "ELBO ≤ -H", reason: "Impossible: an ELBO above the data's entropy ceiling")
    }

    /// The oracle's MMSE falling with t, and many steps not helping: both claims fail.
    func testPlantedDistortionAndNoGain_fail() throws {
        var p = profile()
        p.oracleStartError[3] = p.oracleStartError[0].map { $0 - 0.05 }
        let checks = lesson5Checks(input(profile: p, oracles: oracles(kl: { _ in 1.0 })))
        XCTAssertTrue(checks.contains { $0.statement.contains("distortion does not decrease") && !$0.holds })
        XCTAssertTrue(checks.contains { $0.statement.hasPrefix("with a perfect denoiser many steps win") && !$0.holds })
    }

    /// ρ(t) is the ratio of the means, not the mean of ratios, with its delta-method s.e.
    func testRelativeScoreError_isTheRatioOfMeans() {
        let p = ScoreMatchingProfile(dimension: 1, networkLoss: [[0, 0]], oracleLoss: [[0, 0]], scoreGap: [[1, 3]], oracleNorm: [[4, 4]],
                                     noiseCovarianceTrace: [[0, 0]], networkStartError: [[0, 0]], oracleStartError: [[0, 0]])
        XCTAssertEqual(p.relativeScoreError(at: 1).mean, (2.0 / 4).squareRoot(), accuracy: 1e-12)
    }
}
