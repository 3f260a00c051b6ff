import Core
import DatasetMakers
import DDPMModel
import Foundation
import HVAEModel
import NN
import Store
import Tensor
import Training
import VAEModel
import XCTest

/// Promise: a configuration's architecture and memory are known from its sizes alone, before
/// anything is built, and only finite state is ever checkpointed.
final class SizeAndStateTests: XCTestCase {
    /// Every model kind, both inferences, every variance, each likelihood family at least once.
    static func everyArchitecture() -> [ModelConfiguration] {
        var result: [ModelConfiguration] = [
            .vae(VAEConfiguration(dataDimension: 3, latentDimension: 2, hiddenSizes: [5, 4], likelihood: .continuous)),
            .vae(VAEConfiguration(dataDimension: 4, latentDimension: 3, hiddenSizes: [], likelihood: .binary)),
        ]
        for inference in HVAEInference.allCases {
            for hidden in [[6, 5], [] as [Int]] {
                result.append(.hvae(HVAEConfiguration(dataDimension: 3, latentSizes: [4, 3, 2], hiddenSizes: hidden, inference: inference,
                                                      likelihood: .discrete(levels: 5))))
            }
            result.append(.hvae(HVAEConfiguration(dataDimension: 2, latentSizes: [2], hiddenSizes: [7], inference: inference, likelihood: .binary)))
        }
        for variance in ReverseVariance.allCases {
            var c = DDPMConfiguration(dataDimension: 3, likelihood: .continuous)
            c.timestepCount = 20
            c.hiddenSizes = [9, 7]
            c.embeddingDimension = 6
            c.variance = variance
            if variance == .learnedRange { c.loss = .hybrid }
            result.append(.ddpm(c))
        }
        // Convolutional networks of all three models on 8×8 images (base 8, groups 4, two
        // resolutions; one with three, and one with a single resolution).
        let settings = ConvolutionalSettings(image: ImageShape(height: 8, width: 8), baseChannels: 8, channelMultipliers: [1, 2],
                                             residualBlocks: 2, normalizationGroups: 4)
        var deeper = settings
        deeper.channelMultipliers = [1, 1, 2]
        deeper.residualBlocks = 3
        var flat = settings
        flat.channelMultipliers = [1]
        for (likelihood, convolution) in [(Likelihood.binary, settings), (.continuous, deeper), (.discrete(levels: 4), flat)] {
            var vae = VAEConfiguration(dataDimension: 64, latentDimension: 3, likelihood: likelihood)
            vae.architecture = .conv
            vae.convolution = convolution
            result.append(.vae(vae))
            var hvae = HVAEConfiguration(dataDimension: 64, latentSizes: [2, 3, 1], inference: .topDown, likelihood: likelihood)
            hvae.architecture = .conv
            hvae.convolution = convolution
            result.append(.hvae(hvae))
        }
        for variance in [ReverseVariance.fixedSmall, .learnedRange] {
            var c = DDPMConfiguration(dataDimension: 64, likelihood: .continuous)
            c.timestepCount = 10
            c.embeddingDimension = 8
            c.variance = variance
            if variance == .learnedRange { c.loss = .hybrid }
            c.architecture = .conv
            c.convolution = settings
            result.append(.ddpm(c))
        }
        // Continuous-time DDPMs: every log-SNR schedule (the learned one has parameters), with
        // and without Fourier features, MLP and U-Net.
        for kind in LogSNRScheduleKind.allCases {
            var c = DDPMConfiguration(dataDimension: 3, likelihood: .discrete(levels: 17))
            c.hiddenSizes = [9]
            c.embeddingDimension = 6
            var continuous = ContinuousTimeSettings(schedule: kind)
            continuous.learnedScheduleFeatures = 5
            c.continuousTime = continuous
            if kind != .linear { c.fourierExponents = [2, 3] }
            result.append(.ddpm(c))
            var conv = DDPMConfiguration(dataDimension: 64, likelihood: .binary)
            conv.embeddingDimension = 8
            conv.architecture = .conv
            conv.convolution = settings
            conv.continuousTime = continuous
            if kind == .learned { conv.fourierExponents = [0] }
            result.append(.ddpm(conv))
        }
        return result
    }

    /// ``ModelConfiguration/parameterShapes`` (computed, nothing built) equals the built model's
    /// `namedParameters`, key by key and shape by shape, for every architecture: the two cannot drift.
    func testParameterShapes_equalTheBuiltModelsParameters() throws {
        for configuration in Self.everyArchitecture() {
            var generator = RandomGenerator(seed: 1)
            let model = try configuration.makeModel(using: &generator)
            let built = model.namedParameters.map { "\($0.key) \($0.tensor.shape)" }.sorted()
            let computed = configuration.parameterShapes.map { "\($0.key) \($0.shape)" }.sorted()
            XCTAssertEqual(computed, built, "\(configuration)")
            XCTAssertEqual(configuration.parameterCount, Double(model.namedParameters.reduce(0) { $0 + $1.tensor.count }))
        }
    }

    /// A config edited to other sizes is refused by the first stored key that differs, before
    /// a model is built (a config of 10¹² hidden units would not fit in any memory).
    func testRestoreModel_refusesAConfigThatDoesNotFitTheStoredShapes_beforeBuilding() throws {
        let small = ModelConfiguration.vae(VAEConfiguration(dataDimension: 2, latentDimension: 2, hiddenSizes: [8], likelihood: .continuous))
        var generator = RandomGenerator(seed: 1)
        let stored = try small.makeModel(using: &generator).namedParameters.map { NamedTensor(key: $0.key, shape: $0.tensor.shape, values: $0.tensor.storage) }
        XCTAssertNoThrow(try small.restoreModel(parameters: stored))
        let huge = ModelConfiguration.vae(VAEConfiguration(dataDimension: 2, latentDimension: 2, hiddenSizes: [1_000_000_000_000], likelihood: .continuous))
        XCTAssertThrowsError(try huge.restoreModel(parameters: stored)) { error in
            XCTAssertTrue("\(error)".contains("parameter 'encoder.layers.0.weight' has shape [8, 2] in the checkpoint, its config needs [1000000000000, 2]"), "\(error)")
        }
        let beyond = ModelConfiguration.vae(VAEConfiguration(dataDimension: 2, latentDimension: Int.max / 2 + 1, hiddenSizes: [8], likelihood: .continuous))
        XCTAssertThrowsError(try beyond.restoreModel(parameters: stored)) { error in XCTAssertTrue("\(error)".contains("latentDimension"), "\(error)") }
        XCTAssertThrowsError(try small.restoreModel(parameters: Array(stored.dropLast()))) { error in
            XCTAssertTrue("\(error)".contains("has no parameter 'decoder.layers.1.bias'"), "\(error)")
        }
        XCTAssertThrowsError(try small.restoreModel(parameters: stored + [NamedTensor(key: "extra", shape: [1], values: [0])])) { error in
            XCTAssertTrue("\(error)".contains("'extra'"), "\(error)")
        }
    }

    /// A DDPM's T is in no stored shape: an edited T is refused by the model's memory (its tables).
    func testRestoreModel_refusesAHugeTimestepCountByItsMemory() throws {
        var c = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        c.hiddenSizes = [8]
        var generator = RandomGenerator(seed: 1)
        let stored = try ModelConfiguration.ddpm(c).makeModel(using: &generator).namedParameters
            .map { NamedTensor(key: $0.key, shape: $0.tensor.shape, values: $0.tensor.storage) }
        c.timestepCount = 100_000_000
        setenv(MemoryBudget.environmentVariable, "2G", 1)
        defer { unsetenv(MemoryBudget.environmentVariable) }
        XCTAssertThrowsError(try ModelConfiguration.ddpm(c).restoreModel(parameters: stored)) { error in
            XCTAssertTrue("\(error)".contains("GiB of memory") && "\(error)".contains("COMPARE_MEMORY_LIMIT=2G"), "\(error)")
        }
    }

    /// The estimates against a hand computation for a VAE D = 2, latent 2, hidden [128, 128],
    /// continuous (the default model on gmm2d).
    func testMemoryEstimates_matchAHandComputation() {
        let c = ModelConfiguration.vae(VAEConfiguration(dataDimension: 2, latentDimension: 2, hiddenSizes: [128, 128], likelihood: .continuous))
        // encoder 2→128→128→4, decoder 2→128→128→4: 2 · (2·128+128 + 128·128+128 + 128·4+4) = 2 · 17 028.
        let p: Double = 2 * (256 + 128 + 16_384 + 128 + 512 + 4)
        XCTAssertEqual(c.parameterCount, p)
        let w: Double = 2 * (2 + 128 + 128 + 4)   // widths per row, inputs included
        XCTAssertEqual(c.activationWidth, w)
        XCTAssertEqual(c.modelBytes, 4 * p)
        let elboPerRow: Double = 8 * w + 32 + 8
        XCTAssertEqual(c.elboPassBytes(rows: 256), 256 * elboPerRow)
        let perBatchRow: Double = 12 * w + 64
        XCTAssertEqual(c.trainingBytes(batchSize: 256, evaluationExamples: 256), 16 * p + 256 * perBatchRow + 256 * elboPerRow)
        // eval: n 1000, b 50, K 1000 (50 000 rows in one chunk), R 10, four K values.
        let stored: Double = 8000 + 16_000 + 32_000
        let chunk: Double = 50_000 * (8 * w + 32)
        let evaluation: Double = 4 * p + stored + 10 * 50 * elboPerRow + 400_000 + chunk
        XCTAssertEqual(c.evaluationBytes(examples: 1000, batchSize: 50, sampleCounts: [1, 10, 100, 1000], elboDraws: 10), evaluation)
        let sampleRow: Double = 8 * w + 24
        XCTAssertEqual(c.samplingBytes(count: 64), 4 * p + 64 * sampleRow)

        // DDPM T = 1000, E = 32, hidden [128, 128], D = 2: the tables are 16 · 8 · T + 1001 · E · 4.
        var d = DDPMConfiguration(dataDimension: 2, likelihood: .continuous)
        d.hiddenSizes = [128, 128]
        d.embeddingDimension = 32
        let ddpm = ModelConfiguration.ddpm(d)
        let pd: Double = 34 * 128 + 128 + 16_384 + 128 + 256 + 2
        XCTAssertEqual(ddpm.parameterCount, pd)
        let tables: Double = 128_000 + 1001 * 128
        XCTAssertEqual(ddpm.modelBytes, 4 * pd + tables)
        let wd: Double = 34 + 128 + 128 + 2
        // one ELBO pass on 256 rows: 8 T n + 16 T, and a call of min(T n, 16384) rows.
        let callRow: Double = 48 + 8 + 8 * wd
        XCTAssertEqual(ddpm.elboPassBytes(rows: 256), 2_048_000 + 16_000 + 16_384 * callRow)
        let ddpmSampleRow: Double = 8 * wd + 24 + 64 + 8
        XCTAssertEqual(ddpm.samplingBytes(count: 10), ddpm.modelBytes + 10 * ddpmSampleRow)
    }

    /// Every estimate grows with every size, and no product overflows (Double throughout).
    /// Importance weights of convolutional VAEs and HVAEs are computed 256 images at a time:
    /// beyond that, more samples cost only their 8-byte log-weights.
    func testMemoryEstimates_convolutionalImportanceChunksHold256Images() {
        for configuration in Self.everyArchitecture() {
            let conv: Bool
            switch configuration {
            case .vae(let c): conv = c.architecture == .conv
            case .hvae(let c): conv = c.architecture == .conv
            case .ddpm: continue
            }
            func bytes(_ k: Int) -> Double { configuration.evaluationBytes(examples: 10, batchSize: 10, sampleCounts: [k], elboDraws: 1) }
            if conv {
                XCTAssertEqual(bytes(2000) - bytes(1000), 8 * 1000 * 10, "\(configuration)")
                XCTAssertGreaterThan(bytes(25) - bytes(1), 8 * 24 * 10, "\(configuration)")
            } else {
                XCTAssertGreaterThan(bytes(2000) - bytes(1000), 8 * 1000 * 10, "\(configuration)")
            }
        }
    }

    func testMemoryEstimates_areMonotoneInEverySize() {
        func vae(_ d: Int, _ latent: Int, _ hidden: [Int]) -> ModelConfiguration {
            .vae(VAEConfiguration(dataDimension: d, latentDimension: latent, hiddenSizes: hidden, likelihood: .continuous))
        }
        func hvae(_ latents: [Int], _ hidden: [Int], _ inference: HVAEInference) -> ModelConfiguration {
            .hvae(HVAEConfiguration(dataDimension: 3, latentSizes: latents, hiddenSizes: hidden, inference: inference, likelihood: .continuous))
        }
        func ddpm(_ t: Int, _ e: Int, _ hidden: [Int]) -> ModelConfiguration {
            var c = DDPMConfiguration(dataDimension: 3, likelihood: .continuous)
            c.timestepCount = t
            c.embeddingDimension = e
            c.hiddenSizes = hidden
            return .ddpm(c)
        }
        let chains: [[ModelConfiguration]] = [
            [vae(2, 2, [8]), vae(3, 2, [8]), vae(3, 5, [8]), vae(3, 5, [16]), vae(3, 5, [16, 16]), vae(3, 100_000_000, [1 << 40])],
            [hvae([2], [8], .topDown), hvae([2, 2], [8], .topDown), hvae([2, 9], [8], .topDown), hvae([2, 9], [8, 8], .topDown)],
            [hvae([2], [8], .bottomUp), hvae([2, 2], [8], .bottomUp), hvae([1_000_000], [8], .bottomUp)],
            [ddpm(10, 2, [8]), ddpm(11, 2, [8]), ddpm(2000, 2, [8]), ddpm(2000, 64, [8]), ddpm(2000, 64, [8, 8]), ddpm(100_000_000, 100_000_000, [8])],
        ]
        for chain in chains {
            for (a, b) in zip(chain, chain.dropFirst()) {
                XCTAssertLessThan(a.modelBytes, b.modelBytes, "\(a) → \(b)")
                XCTAssertLessThan(a.trainingBytes(batchSize: 16, evaluationExamples: 16), b.trainingBytes(batchSize: 16, evaluationExamples: 16))
                XCTAssertLessThan(a.evaluationBytes(examples: 20, batchSize: 5, sampleCounts: [1, 10], elboDraws: 2),
                                  b.evaluationBytes(examples: 20, batchSize: 5, sampleCounts: [1, 10], elboDraws: 2))
                XCTAssertLessThan(a.samplingBytes(count: 7), b.samplingBytes(count: 7))
                XCTAssertTrue(b.trainingBytes(batchSize: 16, evaluationExamples: 16).isFinite)
            }
            for c in chain where c.modelBytes < 1e15 {  // beyond, one row is below the rounding of the total
                XCTAssertLessThan(c.trainingBytes(batchSize: 16, evaluationExamples: 16), c.trainingBytes(batchSize: 17, evaluationExamples: 16))
                XCTAssertLessThan(c.trainingBytes(batchSize: 16, evaluationExamples: 16), c.trainingBytes(batchSize: 16, evaluationExamples: 17))
                let e = { (n: Int, b: Int, k: [Int], r: Int) in c.evaluationBytes(examples: n, batchSize: b, sampleCounts: k, elboDraws: r) }
                XCTAssertLessThan(e(20, 5, [10], 2), e(21, 5, [10], 2))
                XCTAssertLessThan(e(20, 5, [10], 2), e(20, 6, [10], 2))
                XCTAssertLessThan(e(20, 5, [10], 2), e(20, 5, [1_000_000_000], 2))
                XCTAssertLessThan(e(20, 5, [10], 2), e(20, 5, [10], 3))
                XCTAssertLessThan(c.samplingBytes(count: 7), c.samplingBytes(count: 1_000_000_000))
            }
        }
    }

    func testMemoryLimit_isReadFromTheEnvironmentOrThreeQuartersOfTheMachine() throws {
        XCTAssertEqual(MemoryBudget.parseSize("2G"), 2 * 1_073_741_824)
        XCTAssertEqual(MemoryBudget.parseSize("512m"), 512 * 1_048_576)
        XCTAssertEqual(MemoryBudget.parseSize("1.5GiB"), 1.5 * 1_073_741_824)
        XCTAssertEqual(MemoryBudget.parseSize("1000"), 1000)
        for bad in ["", "G", "-1G", "0", "nan", "inf", "2X", "1e400"] { XCTAssertNil(MemoryBudget.parseSize(bad), bad) }
        XCTAssertEqual(try MemoryBudget.limit(environment: ["COMPARE_MEMORY_LIMIT": "3G"]).bytes, 3 * 1_073_741_824)
        XCTAssertThrowsError(try MemoryBudget.limit(environment: ["COMPARE_MEMORY_LIMIT": "lots"]))
        let machine = MemoryBudget.machineMemory()
        XCTAssertGreaterThan(machine, 256 * 1_048_576)
        XCTAssertEqual(try MemoryBudget.limit(environment: [:]).bytes, 0.75 * machine)
        XCTAssertNil(try MemoryBudget.refusal(1e9, subject: "x", what: "y", environment: ["COMPARE_MEMORY_LIMIT": "1G"]))
        let line = try MemoryBudget.refusal(3 * 1_073_741_824, subject: "--hidden 9", what: "y", environment: ["COMPARE_MEMORY_LIMIT": "1G"])
        XCTAssertEqual(line, "--hidden 9 needs about 3.0 GiB of memory (y), more than the limit of 1.0 GiB (COMPARE_MEMORY_LIMIT=1G)")
        XCTAssertNotNil(try MemoryBudget.refusal(.infinity, subject: "x", what: "y", environment: [:]))
        XCTAssertNotNil(try MemoryBudget.refusal(.nan, subject: "x", what: "y", environment: [:]))
    }

    /// A learning rate so large that one update makes the parameters infinite stops the run at
    /// that step, and no checkpoint of it is ever asked for.
    func testTraining_aNonFiniteUpdateStopsBeforeAnyCheckpoint() throws {
        let generated = try DatasetMaker.gmm2d.make(trainCount: 64, testCount: 16, seed: 3, dimension: nil)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compare-finite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("d.h5").path
        try DatasetFile.write(DatasetContents(name: "d", likelihood: .continuous, exampleShape: [2], source: "test", license: "CC0",
                                              train: .float32(generated.train), test: .float32(generated.test),
                                              trainLogDensity: generated.trainLogDensity, testLogDensity: generated.testLogDensity), to: path)
        let dataset = try DatasetFile.read(path)
        let options = TrainingOptions(steps: 5, batchSize: 16, learningRate: 1e38, checkpointEvery: 1, evaluationExamples: 8)
        let run = try TrainingRun(configuration: .vae(VAEConfiguration(dataDimension: 2, hiddenSizes: [8], likelihood: .continuous)),
                                  options: options, dataset: dataset, datasetHash: "x")
        var checkpoints = 0
        XCTAssertThrowsError(try run.train(checkpoint: { _ in checkpoints += 1 })) { error in
            guard case TrainingError.nonFinite(let step, let what)? = error as? TrainingError else { return XCTFail("\(error)") }
            XCTAssertEqual(step, 1)
            XCTAssertTrue(what.contains("parameter '") && what.contains("after the update"), what)
        }
        XCTAssertEqual(checkpoints, 0)
        XCTAssertEqual(run.step, 0)
    }
}
