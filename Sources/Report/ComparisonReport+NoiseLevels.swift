import Evaluation

/// The DDPMs' bound by noise level: the KL terms L_t summed over decades of t (t = 1 the finest
/// step, next to the data), the last layer (the prior term L_T) and the reconstruction term L_0,
/// one column per DDPM of more than ten steps. It says in numbers what the per-layer figure
/// shows: which noise levels the bound is spent on (docs/math.md#continuous-time-elbo, "More
/// steps never hurt"; on discrete data the finest steps dominate a finite-T DDPM's bound).
///
/// Each cell is the mean over the test examples of the per-example sum, ± its standard error,
/// in nats per example. A DDPM of T steps has the KL steps L_1 … L_{T−1} and the prior L_T; a
/// continuous-time DDPM read at T has L_1 … L_T and its prior as layer T + 1.
func noiseLevelSection(_ runs: [RunSummary], labels: [String]) -> String {
    let chosen = runs.indices.filter { runs[$0].model == .ddpm && runs[$0].evaluation.layerNames.count > 10 }
    guard !chosen.isEmpty else { return "" }
    // Diffusion steps of each run: every layer but the last, which is the prior term.
    let steps = chosen.map { runs[$0].evaluation.layerNames.count - 1 }
    var ranges: [ClosedRange<Int>] = [1...1]
    var low = 2, high = 10
    while low <= steps.max()! {
        ranges.append(low...high)
        low = high + 1
        high *= 10
    }
    func sum(_ evaluation: ModelEvaluation, layers: ClosedRange<Int>) -> MeanEstimate {
        var total = [Double](repeating: 0, count: evaluation.exampleCount)
        for layer in layers { for i in total.indices { total[i] += evaluation.layerKL[layer - 1][i] } }
        return MeanEstimate(total)
    }
    var table = MarkdownTable(headers: ["noise level"] + chosen.map { labels[$0] },
                              alignments: [.left] + chosen.map { _ in .right })
    for range in ranges {
        let name = range.count == 1 ? "L_\(range.lowerBound) (the finest step)"
            : "L_\(formatCount(range.lowerBound)) … L_\(formatCount(range.upperBound))"
        table.append([name] + chosen.enumerated().map { column, index in
            guard range.lowerBound <= steps[column] else { return "—" }
            return formatEstimate(sum(runs[index].evaluation, layers: range.lowerBound...Swift.min(range.upperBound, steps[column])))
        })
    }
    table.append(["prior (the last layer)"] + chosen.enumerated().map { column, index in
        formatEstimate(runs[index].evaluation.layerKLEstimate(steps[column]))
    })
    table.append(["L_0 (the reconstruction term)"] + chosen.map { formatEstimate(runs[$0].evaluation.reconstructionEstimate.scaled(by: -1)) })
    table.append(["-ELBO (the sum)"] + chosen.map { formatEstimate(runs[$0].evaluation.elboEstimate.scaled(by: -1)) })
    return "### By noise level\n\n"
        + "Each DDPM's bound by noise level, in nats per example: the KL terms L_t summed over decades of t "
        + "(t = 1 is the step next to the data; a range stops at the model's last step), the prior term "
        + "(the last layer, KL(q(x_T|x0) ‖ N(0, I))) and the reconstruction term L_0. A continuous-time DDPM "
        + "is listed on the grid of T steps it is read at.\n\n"
        + table.text + "\n"
}
