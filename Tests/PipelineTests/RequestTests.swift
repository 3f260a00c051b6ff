import Core
import DDPMModel
import Pipeline
import Training
import XCTest

/// The typed requests print themselves as the command lines that run them (defaults left out,
/// options in one canonical order) and refuse impossible options before touching any file.
/// That a printed line reruns the run bit for bit is checked through the real binary by
/// `scripts/interop_check.py` ("stored command").
final class RequestTests: XCTestCase {
    func testTrainRequest_argumentsLeaveOutDefaultsInCanonicalOrder() {
        var training = TrainingOptions()
        training.steps = 300
        training.seed = 7
        let request = TrainRequest(model: .ddpm, dataset: "Datasets/gmm2d.h5", training: training, threads: 2,
                                   settings: ModelSettings(hiddenSizes: [64, 64], timestepCount: 100, schedule: .cosine),
                                   out: "Runs/x.h5", resume: true)
        XCTAssertEqual(request.commandLine,
                       "compare train --model ddpm --dataset Datasets/gmm2d.h5 --steps 300 --seed 7 --threads 2 "
                       + "--hidden 64,64 --timesteps 100 --schedule cosine --out Runs/x.h5 --resume")
        XCTAssertEqual(TrainRequest(model: .vae, dataset: "d.h5").commandLine, "compare train --model vae --dataset d.h5")
    }

    func testTrainRequest_quotesWordsAShellWouldSplit() {
        let request = TrainRequest(model: .vae, dataset: "my data/it's.h5")
        XCTAssertEqual(request.commandLine, "compare train --model vae --dataset 'my data/it'\\''s.h5'")
    }

    func testModelSettings_refuseOptionsOfAnotherModelNamingBoth() {
        XCTAssertThrowsError(try ModelSettings(timestepCount: 10).validate(for: .vae)) { error in
            XCTAssertEqual("\(error)", "--timesteps is an option of --model ddpm, not of --model vae")
        }
        XCTAssertThrowsError(try ModelSettings(warmupSteps: 10).validate(for: .ddpm)) { error in
            XCTAssertEqual("\(error)", "--warmup is an option of --model hvae/vae, not of --model ddpm")
        }
        XCTAssertNoThrow(try ModelSettings(hiddenSizes: [4], warmupSteps: 10).validate(for: .hvae))
    }

    func testModelSettings_configurationAppliesEveryGivenOption() throws {
        let settings = ModelSettings(hiddenSizes: [8], timestepCount: 2000, variance: .learnedRange, loss: .hybrid)
        guard case .ddpm(let c) = try settings.configuration(model: .ddpm, dimension: 3, likelihood: .discrete(levels: 17)) else {
            return XCTFail("expected a DDPM configuration")
        }
        XCTAssertEqual(c.hiddenSizes, [8])
        XCTAssertEqual(c.timestepCount, 2000)
        XCTAssertEqual(c.timestepScaling, .real, "T > 1000 embeds the real t·1000/T")
        XCTAssertEqual(c.likelihood, .discrete(levels: 17))
        XCTAssertTrue(c.clipsPredictedStart)
    }

    func testRequests_validateOptionsBeforeReadingFiles() {
        XCTAssertThrowsError(try TrainRequest(model: .vae, dataset: "absent.h5", threads: 0).validate())
        XCTAssertThrowsError(try TrainRequest(model: .vae, dataset: "absent.h5", resume: true, overwrite: true).validate())
        XCTAssertThrowsError(try EvaluationRequest(checkpoint: "absent.h5", sampleCounts: []).validate())
        XCTAssertThrowsError(try EvaluationRequest(checkpoint: "absent.h5", elboDraws: 0).validate())
        XCTAssertThrowsError(try SampleRequest(checkpoint: "absent.h5", out: "x.txt").validate())
        XCTAssertThrowsError(try ReportRequest(runs: ["a.h5"], out: "r.html").validate())
    }

    func testDemoRequest_trainsAllThreeModelsOnOneDatasetWithOneBudget() {
        let demo = DemoRequest(steps: 100, examples: 20, sampleCounts: [1, 10])
        XCTAssertEqual(demo.trainRequests.map(\.model), ModelKind.allCases)
        XCTAssertEqual(Set(demo.trainRequests.map(\.dataset)), [DemoRequest.dataset])
        XCTAssertEqual(Set(demo.trainRequests.map(\.training.steps)), [100])
        XCTAssertEqual(demo.trainRequests.map { $0.settings.warmupSteps }, [1000, 1000, nil], "warm-up for learned encoders only")
        XCTAssertEqual(demo.evaluationRequests.map(\.checkpoint), demo.reportRequest.runs)
        XCTAssertEqual(Set(demo.evaluationRequests.map(\.sampleCounts)), [[1, 10]])
        XCTAssertEqual(Set(demo.evaluationRequests.map(\.sandwich)), [300], "the report's sandwich table needs every model's bounds")
    }
}
