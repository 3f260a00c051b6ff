import ArgumentParser
import Pipeline

/// `compare lesson 1|2|3|4|5|all [--quick]`: the VAE/diffusion analogy in five measured experiments.
///
/// Each lesson trains what it needs with ordinary `compare train` command lines and evaluates
/// with `compare eval` (both run in-process and printed, like `demo`), reusing the checkpoints
/// it finds under `Runs/lessons[-quick]/` when their options match (`--resume`, "nothing to do"
/// when complete) and their stored evaluation when it has the requested K and examples. The
/// report (Markdown with its checks, SVG plots beside it) is written by the Report module.
struct LessonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesson",
        abstract: "The VAE/diffusion analogy in five measured experiments; writes Reports/lesson-N.md.",
        discussion: """
        1  maximum likelihood: ELBO ≤ IWAE_1 ≤ IWAE_10 ≤ … ≤ IWAE_1000, the gap closing with K
        2  KL(q(x_0:T) ‖ p(x_0:T)) ≥ KL(q(x0) ‖ p(x0)) ≥ 0 on known densities (gmm2d, checkerboard)
        3  the DDPM as a hierarchical VAE with a parameterless encoder, and where the analogy breaks
        4  many easy problems instead of one hard one: the DDPM over T, the HVAE over depth
        5  the score-matching view: ε-prediction is score estimation, checked against an oracle denoiser
        The full `lesson all` takes 5-10 minutes on 2 shared cores; --quick about 2 minutes for all five \
        (reports in Reports/quick/, runs in Runs/lessons-quick/).
        """)

    /// Which lessons: one number or all of them.
    enum Selection: String, CaseIterable, ExpressibleByArgument {
        case one = "1", two = "2", three = "3", four = "4", five = "5", all

        var lessons: [Int] { self == .all ? [1, 2, 3, 4, 5] : [Int(rawValue)!] }
    }

    @Argument(help: "Which lesson.")
    var lesson: Selection

    @Flag(help: "Shorter training and fewer samples; reports go to Reports/quick/.")
    var quick = false

    /// Seconds-long sizes for the test suite (reports in Reports/quick/smoke/).
    @Flag(help: .hidden)
    var smoke = false

    func validate() throws {
        if quick && smoke { throw ValidationError("--quick and --smoke are two different sizes; give one of them") }
    }

    func run() throws {
        try failOnError {
            let plan = LessonPlan(mode: smoke ? .smoke : (quick ? .quick : .full))
            let command = shellCommand(["lesson", lesson.rawValue] + (quick ? ["--quick"] : []) + (smoke ? ["--smoke"] : []))
            try LessonSession(plan: plan, command: command).run(lesson.lessons)
        }
    }
}
