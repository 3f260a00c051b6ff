import Core
import Evaluation
import Foundation
import Report

/// Hand-made runs for the report tests: every number is chosen, none is trained.
enum Fixtures {
    /// An evaluation whose ELBO is reconstruction − Σ KL, example by example.
    static func evaluation(dimension: Int, sampleCounts: [Int], reconstruction: [Double], layerNames: [String],
                           layerKL: [[Double]], iwae: [[Double]], logDensity: [Double]?,
                           effectiveSampleSize: [Double]? = nil, sandwich: SandwichBounds? = nil) -> ModelEvaluation {
        var elbo = reconstruction
        for layer in layerKL { for i in elbo.indices { elbo[i] -= layer[i] } }
        return ModelEvaluation(exampleCount: reconstruction.count, dataDimension: dimension, sampleCounts: sampleCounts,
                               elbo: elbo, reconstruction: reconstruction, layerNames: layerNames, layerKL: layerKL,
                               iwae: iwae, logDensity: logDensity, effectiveSampleSize: effectiveSampleSize, sandwich: sandwich)
    }

    static func run(path: String, model: ModelKind, description: String, datasetName: String = "gmm2d",
                    likelihood: Likelihood.Family = .continuous, levels: Int? = nil, exampleShape: [Int] = [2],
                    encoderParameters: Int, decoderParameters: Int, latentLayers: Int, trainingSteps: Int = 2000,
                    trainingSeconds: Double, seed: UInt64 = 1, evaluation: ModelEvaluation,
                    lossSteps: [Double] = [], losses: [Double] = [], testELBOSteps: [Double] = [], testELBOs: [Double] = [],
                    samples: [Float] = [], dataPoints: [Float] = []) -> RunSummary {
        let datasetPath = "Datasets/\(datasetName).h5"
        return RunSummary(
            path: path, model: model, modelDescription: description, datasetName: datasetName, datasetPath: datasetPath,
            likelihood: likelihood, levels: levels, exampleShape: exampleShape, encoderParameters: encoderParameters,
            decoderParameters: decoderParameters, latentLayers: latentLayers, trainingSteps: trainingSteps,
            trainingSeconds: trainingSeconds, seed: seed,
            trainCommand: "compare train --model \(model) --dataset \(datasetPath) --steps \(trainingSteps) --seed \(seed) --out \(path)",
            evaluateCommand: "compare eval \(path) --samples \(evaluation.sampleCounts.map(String.init).joined(separator: ",")) --examples \(evaluation.exampleCount)",
            evaluationSeed: 0, evaluation: evaluation, lossSteps: lossSteps, losses: losses,
            testELBOSteps: testELBOSteps, testELBOs: testELBOs, samples: samples, dataPoints: dataPoints)
    }

    static let gmmLogDensity = [-1.70, -1.50, -2.00, -1.65, -1.60]

    /// The VAE on 2-D continuous data with a known density: n = 5, K = 1, 10, 100.
    static var vae: RunSummary {
        let evaluation = Fixtures.evaluation(
            dimension: 2, sampleCounts: [1, 10, 100],
            reconstruction: [-1.20, -0.95, -1.50, -1.10, -1.00], layerNames: ["z"],
            layerKL: [[0.90, 0.90, 0.90, 0.95, 0.95]],
            iwae: [[-2.12, -1.83, -2.41, -2.02, -1.97],
                   [-1.95, -1.70, -2.25, -1.90, -1.80],
                   [-1.90, -1.66, -2.20, -1.86, -1.77]],
            logDensity: gmmLogDensity, effectiveSampleSize: [61.5, 80.2, 12.0, 55.0, 70.4],
            // 4 model samples: U_1 = log w* is far above, IWAE_1 far below; both close in on each other by K = 100.
            sandwich: SandwichBounds(sampleCounts: [1, 10, 100],
                                     lower: [[-2.3, -1.9, -2.6, -2.0], [-2.05, -1.72, -2.31, -1.86], [-1.98, -1.66, -2.24, -1.80]],
                                     upper: [[-1.2, -1.0, -1.9, -1.3], [-1.80, -1.50, -2.10, -1.66], [-1.92, -1.60, -2.19, -1.75]]))
        return run(path: "Runs/vae.h5", model: .vae, description: "latent 2, hidden 64×2", encoderParameters: 4612,
                   decoderParameters: 4578, latentLayers: 1, trainingSeconds: 12.34, evaluation: evaluation,
                   lossSteps: [0, 500, 1000, 1500, 2000], losses: [4.1, 2.6, 2.3, 2.2, 2.15],
                   testELBOSteps: [1000, 2000], testELBOs: [-2.3, -2.07],
                   samples: [0.5, 0.4, -1.1, 0.9, 2.2, -0.3, 9.0, 9.0], dataPoints: [0.6, 0.5, -1.0, 1.0, 2.0, -0.5, 0.1, 0.2])
    }

    /// The two-layer HVAE on the same data.
    static var hvae: RunSummary {
        let evaluation = Fixtures.evaluation(
            dimension: 2, sampleCounts: [1, 10, 100],
            reconstruction: [-1.00, -0.80, -1.30, -0.95, -0.90], layerNames: ["z1", "z2"],
            layerKL: [[0.70, 0.72, 0.75, 0.70, 0.68], [0.30, 0.28, 0.31, 0.29, 0.27]],
            iwae: [[-2.02, -1.79, -2.35, -1.95, -1.86],
                   [-1.88, -1.66, -2.19, -1.83, -1.74],
                   [-1.84, -1.62, -2.14, -1.80, -1.71]],
            logDensity: gmmLogDensity)
        return run(path: "Runs/hvae.h5", model: .hvae, description: "2 layers (top-down), latent 2", encoderParameters: 9348,
                   decoderParameters: 9220, latentLayers: 2, trainingSeconds: 75.4, evaluation: evaluation,
                   lossSteps: [0, 1000, 2000], losses: [4.4, 2.2, 2.05],
                   samples: [0.4, 0.6, -0.9, 1.1], dataPoints: [])
    }

    /// The DDPM (T = 4) on the same data.
    static var ddpm: RunSummary {
        let evaluation = Fixtures.evaluation(
            dimension: 2, sampleCounts: [1, 10, 100],
            reconstruction: [0.40, 0.55, 0.30, 0.45, 0.50], layerNames: ["L_1", "L_2", "L_3", "L_4"],
            layerKL: [[1.10, 1.00, 1.20, 1.05, 1.02],
                      [0.60, 0.55, 0.70, 0.62, 0.58],
                      [0.35, 0.30, 0.40, 0.33, 0.31],
                      [0.12, 0.10, 0.15, 0.11, 0.10]],
            iwae: [[-1.74, -1.42, -2.16, -1.67, -1.50],
                   [-1.75, -1.45, -2.13, -1.66, -1.53],
                   [-1.74, -1.44, -2.12, -1.65, -1.52]],
            logDensity: gmmLogDensity)
        return run(path: "Runs/ddpm.h5", model: .ddpm, description: "T = 4, linear, fixed-small", encoderParameters: 0,
                   decoderParameters: 17_794, latentLayers: 4, trainingSteps: 20_000, trainingSeconds: 3723.0, seed: 2,
                   evaluation: evaluation, lossSteps: [0, 10_000, 20_000], losses: [1.0, 0.31, 0.29],
                   testELBOSteps: [10_000, 20_000], testELBOs: [-1.9, -1.78],
                   samples: [0.7, 0.3, -1.2, 1.0, 1.9, -0.4])
    }

    /// 4 × 4 images with 17 levels (no known density), one VAE and one DDPM (T = 3), n = 4, K = 1, 4.
    static func imageRuns() -> [RunSummary] {
        let vae = Fixtures.evaluation(
            dimension: 16, sampleCounts: [1, 4],
            reconstruction: [-30.0, -28.5, -31.2, -29.3], layerNames: ["z"], layerKL: [[8.0, 7.5, 8.4, 7.9]],
            iwae: [[-38.1, -35.9, -39.5, -37.3], [-37.2, -35.1, -38.6, -36.5]], logDensity: nil)
        let ddpm = Fixtures.evaluation(
            dimension: 16, sampleCounts: [1, 4],
            reconstruction: [-20.0, -19.0, -21.0, -20.48], layerNames: ["L_1", "L_2", "L_3"],
            layerKL: [[9.0, 8.8, 9.5, 9.1], [4.0, 3.9, 4.2, 4.1], [0.5, 0.4, 0.6, 0.5]],
            iwae: [[-33.6, -32.0, -35.4, -34.3], [-33.2, -31.75, -35.0, -33.957]], logDensity: nil)
        let samples: [Float] = (0..<(2 * 16)).map { Float($0 % 17) / 8 - 1 }
        var runs = [
            run(path: "Runs/digits-vae.h5", model: .vae, description: "latent 4", datasetName: "digits",
                likelihood: .discrete, levels: 17, exampleShape: [4, 4], encoderParameters: 1200, decoderParameters: 1216,
                latentLayers: 1, trainingSteps: 500, trainingSeconds: 3.2, evaluation: vae, samples: samples),
            run(path: "Runs/digits-ddpm.h5", model: .ddpm, description: "T = 3, cosine, fixed-large", datasetName: "digits",
                likelihood: .discrete, levels: 17, exampleShape: [4, 4], encoderParameters: 0, decoderParameters: 2500,
                latentLayers: 3, trainingSteps: 500, trainingSeconds: 4.75, evaluation: ddpm, samples: Array(samples.reversed())),
        ]
        // Both trained to one budget of 4 s on the cpu clock with 2 threads; the DDPM's cost is
        // partly unknown (an older checkpoint), which the table says with "n/a". The VAE's
        // log-scale guards acted 1,490 times in training; the DDPM's count was not recorded. The
        // VAE spent 6.4 CPU s / 2 threads = 3.2 s of its 4 s: it stopped short of the budget; it
        // skipped 3 non-finite steps.
        runs[0].cost = TrainingCost(batchSize: 32, cpuSeconds: 6.4, multiplyAdds: 1.5e9, threads: 2, budgetSeconds: 4,
                                    budgetClock: "cpu", evaluationSeconds: 75, evaluationThreads: 2,
                                    guardedTrainingOutputs: 1490, guardedEvaluationOutputs: 0, skippedSteps: 3)
        runs[1].cost = TrainingCost(batchSize: 64, cpuSeconds: 8.0, multiplyAdds: nil, threads: 2, budgetSeconds: 4,
                                    budgetClock: "cpu", evaluationSeconds: nil, evaluationThreads: nil)
        runs[1].architecture = "conv"
        runs[0].architecture = "mlp"
        runs[1].nearestNeighbours = [
            NearestNeighbour(sample: Array(samples.prefix(16)), neighbour: Array(samples.suffix(16)), distance: 1.25, trainingRow: 3),
            NearestNeighbour(sample: Array(samples.suffix(16)), neighbour: Array(samples.prefix(16)), distance: 0.5, trainingRow: 0),
        ]
        return runs
    }

    static var gmmRuns: [RunSummary] { [vae, hvae, ddpm] }
    static let gmmCommand = "compare report Runs/vae.h5 Runs/hvae.h5 Runs/ddpm.h5 --out Reports/gmm2d.md"
    static let digitsCommand = "compare report Runs/digits-vae.h5 Runs/digits-ddpm.h5 --out Reports/digits.md"

    /// With REPORT_DUMP_DIR set, writes a report's files there, to look at the plots.
    static func dumpForReview(_ files: [ReportFile]) throws {
        guard let directory = ProcessInfo.processInfo.environment["REPORT_DUMP_DIR"] else { return }
        for file in files {
            try Data(file.contents).write(to: URL(fileURLWithPath: directory).appendingPathComponent(file.name))
        }
    }
}
