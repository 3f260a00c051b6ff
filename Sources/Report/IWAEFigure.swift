import Evaluation

/// IWAE_K against K (log axis) with ±s.e. bars, one panel per run, with the ELBO and — when
/// the data density is known — −H = E[log q(x₀)], the value a perfect model's log p̂ would reach.
func iwaeFigure(_ runs: [RunSummary], labels: [String]) -> Figure {
    var panels: [PlotPanel] = []
    for (i, run) in runs.enumerated() {
        let evaluation = run.evaluation
        let estimates = evaluation.sampleCounts.indices.map { evaluation.iwaeEstimate($0) }
        let counts = evaluation.sampleCounts.map(Double.init)
        var panel = PlotPanel(title: labels[i],
                              subtitle: "n = \(evaluation.exampleCount); bars: s.e. of each mean (differences in K are paired, tighter)",
                              xLabel: "K (importance samples)", yLabel: "IWAE_K (nats)", xScale: .logarithmic,
                              xAxis: PlotAxis(lower: counts.min()! / 1.6, upper: counts.max()! * 1.6, scale: .logarithmic))
        panel.series.append(.errorBars(points: zip(evaluation.sampleCounts, estimates).map { (x: Double($0), y: $1.mean) },
                                       errors: estimates.map(\.standardError), color: seriesColor(i), label: "IWAE_K"))
        panel.series.append(.horizontalLine(y: evaluation.elboEstimate.mean, color: "#888888", label: "ELBO", dash: "2 3"))
        if let entropy = evaluation.entropyEstimate {
            panel.series.append(.horizontalLine(y: -entropy.mean, color: "#000000", label: "-H = E[log q(x0)]"))
        }
        panels.append(panel)
    }
    return Figure(title: "IWAE_K against K (a lower bound on log p(x0), increasing in K)", panels: panels)
}
