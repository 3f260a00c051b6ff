/// Training curves: each run's training loss against the step (left) and its test ELBO at the
/// steps where it was measured (right). Nil when no run has a training log.
/// Long logs are thinned to at most `maximumPoints` points per run (evenly, keeping the last).
func trainingCurvesFigure(_ runs: [RunSummary], labels: [String], maximumPoints: Int = 1000) -> Figure? {
    let lossPoints = runs.map { run in thinned(zip(run.lossSteps, run.losses).map { (x: $0, y: $1) }, to: maximumPoints) }
    let elboPoints = runs.map { run in zip(run.testELBOSteps, run.testELBOs).map { (x: $0, y: $1) } }
    var panels: [PlotPanel] = []
    if lossPoints.contains(where: { !$0.isEmpty }) {
        let values = lossPoints.flatMap { $0.map(\.y) }
        var panel = PlotPanel(title: "Training loss", subtitle: "each model's own objective, per training batch",
                              xLabel: "step", yLabel: "loss",
                              yScale: PlotAxis.spansDecades(values) ? .logarithmic : .linear)
        for (i, points) in lossPoints.enumerated() where !points.isEmpty {
            panel.series.append(.line(points: points, color: seriesColor(i), label: labels[i]))
        }
        panels.append(panel)
    }
    if elboPoints.contains(where: { !$0.isEmpty }) {
        var panel = PlotPanel(title: "Test ELBO during training", subtitle: "nats per example (higher is better)",
                              xLabel: "step", yLabel: "ELBO (nats)")
        for (i, points) in elboPoints.enumerated() where !points.isEmpty {
            panel.series.append(.line(points: points, color: seriesColor(i), label: labels[i], markers: true))
        }
        panels.append(panel)
    }
    guard !panels.isEmpty else { return nil }
    return Figure(title: "Training curves", panels: panels, columns: 2)
}

/// Every k-th point (k = ⌈count / maximum⌉) and the last one.
func thinned(_ points: [(x: Double, y: Double)], to maximum: Int) -> [(x: Double, y: Double)] {
    guard points.count > maximum, maximum >= 2 else { return points }
    let stride = (points.count + maximum - 2) / (maximum - 1)
    var result = Swift.stride(from: 0, to: points.count - 1, by: stride).map { points[$0] }
    result.append(points[points.count - 1])
    return result
}
