import ArgumentParser
import DDPMModel
import Evaluation
import Foundation
import NN
import Report
import Store
import Tensor
import Training
import VAEModel

/// `compare lesson 1|2|3|4|all [--quick]`: the VAE/diffusion analogy in four measured experiments.
///
/// Each lesson trains what it needs with ordinary `compare train` command lines and evaluates
/// with `compare eval` (both run in-process and printed, like `demo`), reusing the checkpoints
/// it finds under `Runs/lessons[-quick]/` when their options match (`--resume`, "nothing to do"
/// when complete) and their stored evaluation when it has the requested K and examples. The
/// report (Markdown with its checks, SVG plots beside it) is written by the Report module.
struct LessonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesson",
        abstract: "The VAE/diffusion analogy in four measured experiments; writes Reports/lesson-N.md.",
        discussion: """
        1  maximum likelihood: ELBO ≤ IWAE_1 ≤ IWAE_10 ≤ … ≤ IWAE_1000, the gap closing with K
        2  KL(q(x_0:T) ‖ p(x_0:T)) ≥ KL(q(x0) ‖ p(x0)) ≥ 0 on known densities (gmm2d, checkerboard)
        3  the DDPM as a hierarchical VAE with a parameterless encoder, and where the analogy breaks
        4  many easy problems instead of one hard one: the DDPM over T, the HVAE over depth
        The full `lesson all` takes 5-10 minutes on 2 shared cores; --quick about 2 minutes for all four \
        (reports in Reports/quick/, runs in Runs/lessons-quick/).
        """)

    @Argument(help: "1, 2, 3, 4 or all.")
    var lesson: String

    @Flag(help: "Shorter training and fewer samples; reports go to Reports/quick/.")
    var quick = false

    /// Seconds-long sizes for the test suite (reports in Reports/quick/smoke/).
    @Flag(help: .hidden)
    var smoke = false

    func run() throws {
        try failOnError {
            let lessons: [Int]
            switch lesson {
            case "1", "2", "3", "4": lessons = [Int(lesson)!]
            case "all": lessons = [1, 2, 3, 4]
            default: throw CLIFailure("lesson '\(lesson)': expected 1, 2, 3, 4 or all")
            }
            if quick && smoke { throw CLIFailure("--quick and --smoke are two different sizes; give one of them") }
            let plan = LessonPlan(mode: smoke ? .smoke : (quick ? .quick : .full))
            let session = LessonSession(plan: plan, command: commandLine(["lesson"], [lesson] + (quick ? ["--quick"] : []) + (smoke ? ["--smoke"] : [])))
            try session.run(lessons)
        }
    }
}

/// One invocation of `compare lesson`: trains and evaluates what the lessons need (once each),
/// writes their reports, and times everything.
final class LessonSession {
    let plan: LessonPlan
    let command: String
    let started = Date()
    /// Summaries already read in this invocation, by checkpoint path.
    private var summaries: [String: RunSummary] = [:]
    /// Runs already brought up to date in this invocation.
    private var ready: Set<String> = []
    /// Written lessons: how to write them again with the total time (`lesson all`).
    private var written: [(number: Int, footer: LessonFooter, make: (LessonFooter) throws -> [ReportFile])] = []

    init(plan: LessonPlan, command: String) {
        self.plan = plan
        self.command = command
    }

    func say(_ text: String) {
        print(String(format: "[%6.1fs] ", Date().timeIntervalSince(started)) + text)
        fflush(stdout)
    }

    func run(_ lessons: [Int]) throws {
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
            default: (make, reproduce) = try lesson4()
            }
            let footer = LessonFooter(command: commandLine(["lesson"], [String(number)] + modeFlags), mode: plan.mode.rawValue,
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

    private func createFolder(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw CLIFailure("\(path): cannot create the folder")
        }
    }

    // MARK: - Runs

    /// Makes `Datasets/NAME.h5` when it is missing, with `compare datasets make NAME`.
    func ensureDataset(_ name: String) throws {
        let path = plan.datasetPath(name)
        if FileManager.default.fileExists(atPath: path) { return }
        say("making \(path): \(commandLine(["datasets", "make"], [name]))")
        let make = try DatasetsMakeCommand.parse([name])
        try make.run()
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
        let summary = try RunSummary(run: loadRun(path))
        summaries[path] = summary
        return summary
    }

    /// Why the checkpoint at `path` cannot be resumed by `arguments`, or nil when it can.
    private func mismatch(path: String, arguments: [String]) -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return "no checkpoint yet" }
        guard let checkpoint = try? Checkpoint.read(from: path) else { return "the checkpoint cannot be read" }
        do {
            let train = try TrainCommand.parse(arguments)
            let data = try DatasetFile.read(train.dataset)
            let configuration = try train.modelOptions.configuration(model: train.model, dimension: data.dimension,
                                                                     likelihood: modelLikelihood(of: data, path: train.dataset))
            let options = try train.runOptions.trainingOptions()
            guard checkpoint.model == configuration.kind,
                  let stored = try? ModelConfiguration(kind: checkpoint.model, json: checkpoint.config), stored == configuration else {
                return "its model options differ"
            }
            guard checkpoint.datasetHash == (try SHA256.hexDigest(ofFileAt: train.dataset)) else { return "its dataset has changed" }
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
        let path = plan.path(of: run)
        let arguments = plan.trainArguments(run)
        let problem = mismatch(path: path, arguments: arguments)
        let full = arguments + [problem == nil ? "--resume" : "--overwrite"]
        if let problem, problem != "no checkpoint yet" { say("\(path): retraining, \(problem)") }
        say("training: \(commandLine(["train"], full))")
        var train = try TrainCommand.parse(full)
        train.arguments = full
        try train.run()
    }

    private func ensureEvaluated(_ run: LessonPlan.Run) throws {
        let path = plan.path(of: run)
        let arguments = plan.evalArguments(run)
        let counts = run.sampleCounts
        if let record = try? Checkpoint.readEvaluation(from: path),
           record.array(named: "sample_counts")?.values.map({ Int($0) }) == counts,
           let examples = record.attributes["examples"]?.integerValue,
           let testCount = try? DatasetFile.read(plan.datasetPath(run.dataset)).testCount,
           examples == min(plan.examples(run), testCount),
           record.attributes["seed"]?.unsignedIntegerValue == 1,
           record.attributes["elbo_draws"]?.integerValue == plan.elboDraws {
            say("\(path): evaluation with these K and examples found; not evaluating again")
            return
        }
        say("evaluating: \(commandLine(["eval"], arguments))")
        var evaluate = try EvalCommand.parse(arguments)
        evaluate.arguments = arguments
        try evaluate.run()
    }

    /// The lessons' reproduce lines besides the runs' own commands.
    private var makeDatasets: [String] { ["gmm2d", "checkerboard"].map { commandLine(["datasets", "make"], [$0]) } }

    // MARK: - The lessons

    func lesson1() throws -> ((LessonFooter) throws -> [ReportFile], [String]) {
        let runs = try [plan.vae("gmm2d"), plan.hvae("gmm2d", layers: 2), plan.lessonDDPM("gmm2d")].map(summary)
        let name = "lesson-1"
        return ({ footer in try makeLesson1Report(Lesson1Input(runs: runs, footer: footer), reportName: name) },
                [commandLine(["datasets", "make"], ["gmm2d"])])
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
        var lower: [[Double]?] = []
        var profile: InformationProfile? = nil
        for (spec, summary) in zip(specs, runs) {
            let loaded = try loadRun(plan.path(of: spec))
            let n = summary.evaluation.exampleCount
            let dimension = loaded.dataset.dimension
            let rows = (0..<n).map { i in (0..<dimension).map { Double(loaded.dataset.test[i * dimension + $0]) } }
            var generator = RandomGenerator(seed: 2)
            if let vae = loaded.model as? VAE {
                let q = GradientMode.withoutRecording {
                    vae.posterior(Tensor(shape: [n, dimension], storage: Array(loaded.dataset.test.prefix(n * dimension))))
                }
                let k = q.mean.shape[1]
                let means = (0..<n).map { i in (0..<k).map { Double(q.mean.storage[i * k + $0]) } }
                let variances = (0..<n).map { i in (0..<k).map { exp(Double(q.logVariance.storage[i * k + $0])) } }
                let noise = (0..<n).map { _ in (0..<k).map { _ in generator.nextNormal() } }
                lower.append(informationLowerBoundTerms(means: means, variances: variances, noise: noise))
            } else if let ddpm = loaded.model as? DDPM, ddpm.likelihood == .continuous {
                let T = ddpm.configuration.timestepCount
                let steps = T <= 100 ? Array(1...T) : Array(Set((0...40).map { Int((pow(Double(T), Double($0) / 40)).rounded()) })).sorted()
                profile = diffusionInformationProfile(
                    label: "DDPM (T = \(T))", data: rows, alphasCumprod: ddpm.diffusion.alphasCumprod, steps: steps,
                    noise: { _ in (0..<n).map { _ in (0..<dimension).map { _ in generator.nextNormal() } } })
                let a = ddpm.diffusion.alphasCumprod[T - 1]
                lower.append(informationLowerBoundTerms(
                    means: rows.map { $0.map { a.squareRoot() * $0 } },
                    variances: rows.map { $0.map { _ in 1 - a } },
                    noise: (0..<n).map { _ in (0..<dimension).map { _ in generator.nextNormal() } }))
            } else {
                lower.append(nil)
            }
        }
        return ({ footer in
            try makeLesson3Report(Lesson3Input(runs: runs, topLatentLowerBoundTerms: lower, diffusionProfile: profile, footer: footer),
                                  reportName: "lesson-3")
        }, [commandLine(["datasets", "make"], ["gmm2d"])])
    }

    func lesson4() throws -> ((LessonFooter) throws -> [ReportFile], [String]) {
        let sweep = try plan.sweepT.map { try summary(plan.sweepDDPM(timesteps: $0)) }
        let depth = try plan.depths.map { try summary(plan.hvae("gmm2d", layers: $0)) }
        let references = try [plan.vae("gmm2d"), plan.lessonDDPM("gmm2d")].map(summary)
        let termsT = plan.lessonT
        return ({ footer in
            try makeLesson4Report(Lesson4Input(sweep: sweep, depth: depth, references: references, termsT: termsT, footer: footer),
                                  reportName: "lesson-4")
        }, [commandLine(["datasets", "make"], ["gmm2d"])])
    }
}
