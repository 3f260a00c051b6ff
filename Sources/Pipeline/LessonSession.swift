import Core
import DDPMModel
import DatasetMakers
import Evaluation
import Foundation
import Report
import Store
import Tensor
import Training

/// One invocation of `compare lesson`: trains and evaluates what the lessons need (once each),
/// writes their reports, and times everything.
public final class LessonSession {
    let plan: LessonPlan
    let command: String
    let started = Date()
    /// Summaries already read in this invocation, by checkpoint path.
    private var summaries: [String: RunSummary] = [:]
    /// Runs already brought up to date in this invocation.
    private var ready: Set<String> = []
    /// Written lessons: how to write them again with the total time (`lesson all`).
    private var written: [(number: Int, footer: LessonFooter, make: (LessonFooter) throws -> [ReportFile])] = []

    public init(plan: LessonPlan, command: String) {
        self.plan = plan
        self.command = command
    }

    func say(_ text: String) {
        print(String(format: "[%6.1fs] ", Date().timeIntervalSince(started)) + text)
        fflush(stdout)
    }

    public func run(_ lessons: [Int]) throws {
        try createFolder(plan.runsFolder)
        try createFolder(plan.reportsFolder)
        say("compare lesson (\(plan.mode.rawValue)): lessons \(lessons.map(String.init).joined(separator: ", ")); runs in \(plan.runsFolder)/, reports in \(plan.reportsFolder)/")
        for number in lessons {
            let lessonStart = Date()
            say("lesson \(number): preparing its runs")
            let make: (LessonFooter) throws -> [ReportFile]
            var reproduce: [String] = []
            switch number {
            case 1: (make, reproduce) = try lesson1()
            case 2: (make, reproduce) = try lesson2()
            case 3: (make, reproduce) = try lesson3()
            case 4: (make, reproduce) = try lesson4()
            default: (make, reproduce) = try lesson5()
            }
            let footer = LessonFooter(command: shellCommand(["lesson", String(number)] + modeFlags), mode: plan.mode.rawValue,
                                      sizes: plan.sizeLines, lessonSeconds: Date().timeIntervalSince(lessonStart),
                                      totalSeconds: nil, reproduce: reproduce)
            let files = try write(number: number, footer: footer, make: make)
            written.append((number, footer, make))
            let report = "\(plan.reportsFolder)/lesson-\(number).md"
            say("lesson \(number) done in \(formatDuration(footer.lessonSeconds)): wrote \(report) and \(files - 1) plot\(files == 2 ? "" : "s"); \(verdictLine(report))")
        }
        let total = Date().timeIntervalSince(started)
        if lessons.count > 1 {
            // Write every report again with the total time in its footer.
            for entry in written {
                var footer = entry.footer
                footer.totalSeconds = total
                _ = try write(number: entry.number, footer: footer, make: entry.make)
            }
        }
        say("total wall time: \(formatDuration(total)) (\(String(format: "%.1f", total)) s) for lesson\(lessons.count > 1 ? "s" : "") "
            + lessons.map(String.init).joined(separator: ", "))
    }

    private var modeFlags: [String] {
        switch plan.mode {
        case .full: return []
        case .quick: return ["--quick"]
        case .smoke: return ["--smoke"]
        }
    }

    /// Writes lesson `number`'s files; returns how many.
    private func write(number: Int, footer: LessonFooter, make: (LessonFooter) throws -> [ReportFile]) throws -> Int {
        let files = try make(footer)
        try writeFilesAtomically(files.map { (path: "\(plan.reportsFolder)/\($0.name)", contents: $0.contents) })
        return files.count
    }

    /// The report's verdict line, for the terminal.
    private func verdictLine(_ path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("**Verdict") }) else { return "" }
        return line.replacingOccurrences(of: "**", with: "").components(separatedBy: ";").first ?? ""
    }

    // MARK: - Runs

    /// Makes `Datasets/NAME.h5` when it is missing.
    func ensureDataset(_ name: String) throws {
        let path = plan.datasetPath(name)
        if FileManager.default.fileExists(atPath: path) { return }
        guard let maker = DatasetMaker(rawValue: name) else { throw PipelineError("\(path): no such dataset, and no maker named \(name)") }
        let make = DatasetMakeRequest(maker: maker)
        say("making \(path): \(make.commandLine)")
        print(try make.run())
    }

    /// Trains `run` (or finds it trained) and evaluates it (or finds its evaluation), then returns its summary.
    func summary(_ run: LessonPlan.Run) throws -> RunSummary {
        let path = plan.path(of: run)
        if !ready.contains(path) {
            try ensureDataset(run.dataset)
            try ensureTrained(run)
            try ensureEvaluated(run)
            ready.insert(path)
            summaries[path] = nil
        }
        if let summary = summaries[path] { return summary }
        let summary = try RunSummary(run: LoadedRun(path: path))
        summaries[path] = summary
        return summary
    }

    /// Why the checkpoint of `request` cannot be resumed by it, or nil when it can.
    private func mismatch(_ request: TrainRequest) -> String? {
        guard let path = request.out, FileManager.default.fileExists(atPath: path) else { return "no checkpoint yet" }
        guard let checkpoint = try? Checkpoint.read(from: path) else { return "the checkpoint cannot be read" }
        do {
            let data = try DatasetFile.read(request.dataset)
            guard let likelihood = data.metadata.modelLikelihood else { return "its dataset has no usable likelihood" }
            let configuration = try request.settings.configuration(model: request.model, dimension: data.dimension, likelihood: likelihood)
            let options = request.training
            guard checkpoint.model == configuration.kind.rawValue,
                  let stored = try? ModelConfiguration(kind: configuration.kind, json: checkpoint.config), stored == configuration else {
                return "its model options differ"
            }
            guard checkpoint.datasetHash == (try SHA256.hexDigest(ofFileAt: request.dataset)) else { return "its dataset has changed" }
            guard case .string(let json)? = checkpoint.attributes["training_options"],
                  var storedOptions = try? JSONDecoder().decode(TrainingOptions.self, from: Data(json.utf8)) else {
                return "it does not record its training options"
            }
            guard storedOptions.steps == options.steps || checkpoint.step < options.steps else { return "it was trained for \(storedOptions.steps) steps" }
            storedOptions.steps = options.steps
            guard storedOptions == options else { return "its training options differ" }
            guard checkpoint.optimizer != nil, checkpoint.generatorState != nil else { return "it cannot be resumed" }
            return nil
        } catch {
            return "\(error)"
        }
    }

    private func ensureTrained(_ run: LessonPlan.Run) throws {
        var request = plan.trainRequest(run)
        let problem = mismatch(request)
        if problem == nil { request.resume = true } else { request.overwrite = true }
        if let problem, problem != "no checkpoint yet" { say("\(plan.path(of: run)): retraining, \(problem)") }
        say("training: \(request.commandLine)")
        try request.run()
    }

    private func ensureEvaluated(_ run: LessonPlan.Run) throws {
        let path = plan.path(of: run)
        let request = plan.evaluationRequest(run)
        let counts = run.sampleCounts
        if let record = try? Checkpoint.readEvaluation(from: path),
           record.array(named: "sample_counts")?.values == counts.map(Double.init),  // no Int(·) of a stored value: it may be NaN
           let examples = record.attributes["examples"]?.integerValue,
           let testCount = try? DatasetFile.read(plan.datasetPath(run.dataset)).testCount,
           examples == min(plan.examples(run), testCount),
           record.attributes["seed"]?.unsignedIntegerValue == 1,
           record.attributes["elbo_draws"]?.integerValue == plan.elboDraws {
            say("\(path): evaluation with these K and examples found; not evaluating again")
            return
        }
        say("evaluating: \(request.commandLine)")
        print(try request.run())
    }

    /// The lessons' reproduce lines besides the runs' own commands.
    private var makeDatasets: [String] { [DatasetMaker.gmm2d, .checkerboard].map { DatasetMakeRequest(maker: $0).commandLine } }

    // MARK: - The lessons

    func lesson1() throws -> ((LessonFooter) throws -> [ReportFile], [String]) {
        let runs = try [plan.vae("gmm2d"), plan.hvae("gmm2d", layers: 2), plan.lessonDDPM("gmm2d")].map(summary)
        let name = "lesson-1"
        return ({ footer in try makeLesson1Report(Lesson1Input(runs: runs, footer: footer), reportName: name) },
                [DatasetMakeRequest(maker: .gmm2d).commandLine])
    }

    func lesson2() throws -> ((LessonFooter) throws -> [ReportFile], [String]) {
        var runs: [RunSummary] = []
        for dataset in ["gmm2d", "checkerboard"] {
            runs += try [plan.vae(dataset), plan.hvae(dataset, layers: 2), plan.lessonDDPM(dataset)].map(summary)
        }
        return ({ footer in try makeLesson2Report(Lesson2Input(runs: runs, footer: footer), reportName: "lesson-2") }, makeDatasets)
    }

    func lesson3() throws -> ((LessonFooter) throws -> [ReportFile], [String]) {
        let specs = [plan.vae("gmm2d"), plan.hvae("gmm2d", layers: 2), plan.lessonDDPM("gmm2d")]
        let runs = try specs.map(summary)
        say("lesson 3: bounds on the information in the top latents")
        let information = try Lesson3Information(runs: specs.map { try LoadedRun(path: plan.path(of: $0)) },
                                                 exampleCounts: runs.map(\.evaluation.exampleCount), seed: 2)
        let lower = information.topLatentLowerBoundTerms
        let profile = information.diffusionProfile
        return ({ footer in
            try makeLesson3Report(Lesson3Input(runs: runs, topLatentLowerBoundTerms: lower, diffusionProfile: profile, footer: footer),
                                  reportName: "lesson-3")
        }, [DatasetMakeRequest(maker: .gmm2d).commandLine])
    }

    func lesson5() throws -> ((LessonFooter) throws -> [ReportFile], [String]) {
        let spec = plan.lessonDDPM("gmm2d")
        let trained = try summary(spec)
        let sweep = try plan.sweepT.map { try summary(plan.sweepDDPM(timesteps: $0)) }
        let run = try LoadedRun(path: plan.path(of: spec))
        guard let model = run.model as? DDPM else { throw PipelineError("\(run.path): lesson 5 needs a DDPM") }
        let mixture = try GaussianMixture(densityFamily: run.dataset.metadata.densityFamily, parameters: run.dataset.densityParameters)
        let n = trained.evaluation.exampleCount, dimension = run.dataset.dimension
        let rows = (0..<n).map { i in (0..<dimension).map { Double(run.dataset.test[i * dimension + $0]) } }
        say("lesson 5: the network of \(run.path) against the oracle, t = 1 … \(model.configuration.timestepCount)")
        let profile = Lesson5Measurements.profile(of: model, mixture: mixture, data: rows, seed: 3)
        let data = Tensor(shape: [n, dimension], storage: Array(run.dataset.test.prefix(n * dimension)))
        let oracles = try Lesson5Measurements.oracleSweep(
            mixture: mixture, data: data, logDensity: run.dataset.testLogDensity.map { Array($0.prefix(n)) }, timesteps: plan.oracleSweepT,
            schedules: plan.oracleSchedules, variances: [.fixedSmall, .fixedLarge], elboDraws: plan.elboDraws, seed: 1, progress: { self.say("lesson 5: \($0)") })
        return ({ footer in
            try makeLesson5Report(Lesson5Input(trained: trained, profile: profile, oracleSweep: oracles, trainedSweep: sweep, footer: footer),
                                  reportName: "lesson-5")
        }, [DatasetMakeRequest(maker: .gmm2d).commandLine])
    }

    func lesson4() throws -> ((LessonFooter) throws -> [ReportFile], [String]) {
        let sweep = try plan.sweepT.map { try summary(plan.sweepDDPM(timesteps: $0)) }
        let depth = try plan.depths.map { try summary(plan.hvae("gmm2d", layers: $0)) }
        let references = try [plan.vae("gmm2d"), plan.lessonDDPM("gmm2d")].map(summary)
        let termsT = plan.lessonT
        let continuousSpec = plan.continuousDDPM()
        let continuousRun = try summary(continuousSpec)
        let loaded = try LoadedRun(path: plan.path(of: continuousSpec))
        guard let model = loaded.model as? ContinuousTimeDDPM else { throw PipelineError("\(loaded.path): lesson 4 needs a continuous-time DDPM") }
        let n = continuousRun.evaluation.exampleCount, dimension = loaded.dataset.dimension
        let data = Tensor(shape: [n, dimension], storage: Array(loaded.dataset.test.prefix(n * dimension)))
        let continuous = try ContinuousTimeMeasurements.measure(model, run: continuousRun, data: data, grid: plan.sweepT, draws: plan.elboDraws,
                                                                batchSize: 50, seed: 1, progress: { self.say("lesson 4: \($0)") })
        return ({ footer in
            try makeLesson4Report(Lesson4Input(sweep: sweep, depth: depth, references: references, termsT: termsT, continuousTime: continuous,
                                               footer: footer),
                                  reportName: "lesson-4")
        }, [DatasetMakeRequest(maker: .gmm2d).commandLine])
    }
}
