import Core

// The "Training budget" section of a comparison report: what each run was given and what it
// did with it — the numbers a reader needs before comparing two rows.

/// The section's Markdown: a caption naming the common budget (or saying there is none), one
/// row per run, and the total compute behind the report.
func trainingBudgetSection(_ runs: [RunSummary], labels: [String]) -> String {
    var out = "## Training budget\n\n"
    let budgets = runs.map(\.cost.budgetDescription)
    if let shared = budgets[0], budgets.allSatisfy({ $0 == shared }) {
        let threads = Set(runs.compactMap(\.cost.threads))
        let cores = threads.count == 1 ? threads.first! : nil
        out += "Every model was trained for the same time budget, **\(shared)**"
        if runs[0].cost.budgetClock == "cpu", let cores, let seconds = runs[0].cost.budgetSeconds {
            let plural = cores == 1 ? "" : "s"
            out += " (the process's CPU time divided by its \(cores) thread\(plural): \(formatDuration(seconds)) of \(cores) core\(plural), "
                + "whatever else ran on the machine)"
        }
        out += ": each run stopped after the optimizer step at which its steps had used the budget "
            + "(`compare train --time-budget`; test-ELBO evaluations during training and checkpoint writes are not counted). "
            + "The rows differ in what they did with that time: parameters, steps, examples seen and FLOPs.\n\n"
    } else if budgets.allSatisfy({ $0 != nil }) {
        let distinct = budgets.compactMap { $0 }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        out += "The runs were trained to \(distinct.count) time budgets (`compare train --time-budget`; column \"budget\"): "
            + distinct.joined(separator: ", ") + ". Compare rows of one budget with each other; across budgets, the rows say what "
            + "more time bought.\n\n"
    } else {
        out += "The runs were **not** trained to a common time budget (`compare train --time-budget`): compare rows with their "
            + "steps, examples seen and FLOPs in mind.\n\n"
    }
    out += unfinishedBudgetSentence(runs, labels: labels)
    let showsBudget = Set(budgets.map { $0 ?? "" }).count > 1
    var headers = ["model"] + (showsBudget ? ["budget"] : [])
    headers += ["parameters", "steps", "examples seen", "training time", "CPU time", "cores used", "training FLOPs",
                "FLOPs per example", "evaluation time"]
    var table = MarkdownTable(headers: headers, alignments: [.left] + Array(repeating: .right, count: headers.count - 1))
    for (i, run) in runs.enumerated() {
        let cost = run.cost
        let examples = cost.examplesSeen(steps: run.trainingSteps)
        let coresUsed = cost.cpuSeconds.flatMap { cpu in run.trainingSeconds > 0 ? formatFixed(cpu / run.trainingSeconds, decimals: 2) : nil }
        let perExample = cost.flops.flatMap { flops in examples.flatMap { $0 > 0 ? formatFLOPs(flops / Double($0)) : nil } }
        let evaluation = cost.evaluationSeconds.map { seconds in
            formatDuration(seconds) + (cost.evaluationThreads.map { " (\($0) thread\($0 == 1 ? "" : "s"))" } ?? "")
        }
        table.append([labels[i]] + (showsBudget ? [run.cost.budgetDescription ?? "none"] : [])
                     + [formatCount(run.encoderParameters + run.decoderParameters), formatCount(run.trainingSteps),
                      examples.map(formatCount) ?? "n/a", formatDuration(run.trainingSeconds),
                      cost.cpuSeconds.map(formatDuration) ?? "n/a", coresUsed ?? "n/a",
                      cost.flops.map(formatFLOPs) ?? "n/a", perExample ?? "n/a", evaluation ?? "n/a"])
    }
    out += table.text + "\n"
    out += "- **training time**: wall-clock seconds of the optimizer steps; **CPU time**: the process's CPU seconds during them, "
        + "all threads together; **cores used** = CPU time / training time (below the thread count when other work shared the cores).\n"
    out += "- **training FLOPs** = 2 × the multiply–adds of every matrix product and convolution of the optimizer steps, forward "
        + "and backward, counted by the engine as it ran (element-wise work is not counted); **FLOPs per example** divides "
        + "by the examples seen.\n"
    out += "- **evaluation time**: the wall-clock time of `compare eval` (ELBO and IWAE_K on the n test examples). A DDPM's "
        + "evaluation costs T network passes per example and per importance sample.\n"
    out += guardSentence(runs, labels: labels)
    out += skippedStepsSentence(runs, labels: labels)
    let training = runs.reduce(0) { $0 + $1.trainingSeconds }
    let evaluations = runs.compactMap(\.cost.evaluationSeconds)
    let evaluation = evaluations.reduce(0, +)
    out += "\nCompute behind this report: \(formatDuration(training)) of training"
    if evaluations.count == runs.count {
        out += " and \(formatDuration(evaluation)) of evaluation, \(formatDuration(training + evaluation)) in all"
    }
    out += " (wall-clock, as the checkpoints recorded it; drawing the report's samples and finding their nearest neighbours "
        + "adds seconds to minutes).\n\n"
    return out
}

/// A bullet on the log-scale guards (docs/math.md#log-scale-guards) when any run recorded them:
/// which trainings and evaluations had network outputs moved into bounds, which had none moved
/// (their numbers are the unguarded model's), and which were made before the count existed.
func guardSentence(_ runs: [RunSummary], labels: [String]) -> String {
    var acted: [String] = [], quiet: [String] = [], unrecorded: [String] = []
    for (i, run) in runs.enumerated() {
        let training = run.cost.guardedTrainingOutputs, evaluation = run.cost.guardedEvaluationOutputs
        if training == nil && evaluation == nil { unrecorded.append(labels[i]); continue }
        var parts: [String] = []
        if let training, training > 0 { parts.append("\(formatCount(Int(training))) in training") }
        if let evaluation, evaluation > 0 { parts.append("\(formatCount(evaluation)) in evaluation") }
        if parts.isEmpty {
            if training == nil || evaluation == nil { unrecorded.append(labels[i]) } else { quiet.append(labels[i]) }
        } else {
            acted.append("\(labels[i]) (\(parts.joined(separator: ", ")))")
        }
    }
    guard !acted.isEmpty || !quiet.isEmpty else { return "" }
    var out = "- **log-scale guards** (`docs/math.md`, \"Log-scale guards\"): network outputs read as log-variances or log-scales "
        + "are kept in wide bounds, with the gradient passed through. "
    if !acted.isEmpty { out += "They moved outputs into bounds for " + acted.joined(separator: "; ") + ". " }
    if !quiet.isEmpty { out += "They never acted for " + quiet.joined(separator: ", ") + " (training and evaluation): those rows are the unguarded models' numbers. " }
    if !unrecorded.isEmpty { out += "Not recorded in full for " + unrecorded.joined(separator: ", ") + " (trained or evaluated before the count existed, or no network log-scales)." }
    while out.hasSuffix(" ") { out.removeLast() }
    return out + "\n"
}

/// A paragraph naming the runs that stopped before their `--time-budget` was spent (a training
/// that diverged or was interrupted): their rows are their last checkpoints, trained for less.
func unfinishedBudgetSentence(_ runs: [RunSummary], labels: [String]) -> String {
    var short: [String] = []
    for (i, run) in runs.enumerated() {
        guard let spent = run.cost.budgetSpentSeconds(trainingSeconds: run.trainingSeconds), let budget = run.cost.budgetSeconds,
              spent < budget else { continue }
        short.append("\(labels[i]) (\(formatDuration(spent)) of \(formatDuration(budget)), \(formatCount(run.trainingSteps)) steps)")
    }
    guard !short.isEmpty else { return "" }
    return "**Stopped before the budget was spent:** " + short.joined(separator: "; ")
        + ". Such a run's training failed or was interrupted, and its row is its last checkpoint: it had less compute than the others.\n\n"
}

/// A bullet naming the runs that skipped training steps whose loss or gradient was not finite
/// (``TrainingCost/skippedSteps``), or nothing when none did.
func skippedStepsSentence(_ runs: [RunSummary], labels: [String]) -> String {
    let skipped = runs.indices.compactMap { i in runs[i].cost.skippedSteps.flatMap { $0 > 0 ? "\(labels[i]) \(formatCount($0))" : nil } }
    guard !skipped.isEmpty else { return "" }
    return "- **skipped steps** (loss or gradient not finite; the batch used, the parameters left as they were): "
        + skipped.joined(separator: ", ") + ".\n"
}
