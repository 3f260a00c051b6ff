import Core
import Evaluation

/// The per-layer decomposition of the ELBO, one panel per run on a shared y axis: the KL of
/// each latent layer (the DDPM's L_t against t), with the reconstruction term stated in the
/// subtitle and drawn as a dashed line when it falls inside the axis. The VAE shows one hard
/// problem (one large KL), the DDPM many easy ones (T small KLs).
func layerTermsFigure(_ runs: [RunSummary], labels: [String]) -> Figure {
    let means = runs.map { run in run.evaluation.layerKL.indices.map { run.evaluation.layerKLEstimate($0) } }
    let allValues = means.flatMap { $0.map(\.mean) }
    let scale: PlotAxis.Scale = PlotAxis.spansDecades(allValues) ? .logarithmic : .linear
    let sharedY = PlotAxis(covering: scale == .linear ? allValues + [0] : allValues, scale: scale)
    var panels: [PlotPanel] = []
    for (i, run) in runs.enumerated() {
        let evaluation = run.evaluation
        let layers = evaluation.layerNames.count
        let isDiffusion = run.model == .ddpm
        let points = means[i].enumerated().map { (x: Double($0 + 1), y: $1.mean) }
        let errors = means[i].map(\.standardError)
        let reconstruction = evaluation.reconstructionEstimate.scaled(by: -1)
        let totalKL = MeanEstimate(totalKLPerExample(evaluation))
        let reconstructionName = isDiffusion ? "L_0" : "-log p(x|z)"
        var panel = PlotPanel(
            title: "\(labels[i]): \(layers) latent layer\(layers == 1 ? "" : "s")",
            subtitle: "Σ KL = \(formatEstimate(totalKL)); \(reconstructionName) = \(formatEstimate(reconstruction)) nats",
            xLabel: isDiffusion ? "t (KL term L_t of latent x_t)" : "latent layer",
            yLabel: isDiffusion ? "mean L_t (nats)" : "mean KL (nats)", yScale: scale, yAxis: sharedY)
        if layers <= 12 {
            panel.xTickLabels = evaluation.layerNames.enumerated().map { (x: Double($0 + 1), label: $1) }
        }
        if layers <= 50 {
            panel.series.append(.bars(points: points, errors: errors, color: seriesColor(i), label: "KL per layer"))
        } else {
            panel.series.append(.line(points: points, color: seriesColor(i), label: "KL per layer"))
        }
        let reconstructionVisible = reconstruction.mean.isFinite
            && (scale == .linear || reconstruction.mean > 0)
            && sharedY.fraction(reconstruction.mean) >= 0 && sharedY.fraction(reconstruction.mean) <= 1
        if reconstructionVisible {
            panel.series.append(.horizontalLine(y: reconstruction.mean, color: "#555555", label: reconstructionName))
        }
        panels.append(panel)
    }
    return Figure(title: "Per-layer terms of the ELBO (nats per example)", panels: panels)
}

/// Σ over layers of the KL, per example.
func totalKLPerExample(_ evaluation: ModelEvaluation) -> [Double] {
    var total = [Double](repeating: 0, count: evaluation.exampleCount)
    for layer in evaluation.layerKL { for i in total.indices { total[i] += layer[i] } }
    return total
}
