/// For 2-D data: each run's samples (colored) over training examples (light grey), one panel per
/// run on shared axes fitted to the data. Nil when no run has samples.
func sampleScatterFigure(_ runs: [RunSummary], labels: [String], maximumPoints: Int = 2000) -> Figure? {
    guard runs.contains(where: { !$0.samples.isEmpty }) else { return nil }
    let data = runs.first(where: { !$0.dataPoints.isEmpty }).map { scatterPoints($0.dataPoints, maximum: maximumPoints) } ?? []
    let samples = runs.map { scatterPoints($0.samples, maximum: maximumPoints) }
    let (xAxis, yAxis) = scatterAxes(data: data, samples: samples.flatMap { $0 })
    let panels = runs.indices.map { i in
        scatterPanel(title: labels[i], samples: samples[i], data: data, color: seriesColor(i), xAxis: xAxis, yAxis: yAxis)
    }
    return Figure(title: "Samples (colored) over the data (grey)", panels: panels)
}

/// A standalone scatter plot of 2-D `samples` ([count, 2] row-major) over `data` (light grey),
/// as SVG text (for `compare sample --out FILE.svg`). At most `maximumPoints` of each are drawn.
public func sampleScatterSVG(samples: [Float], data: [Float], title: String, maximumPoints: Int = 2000) -> String {
    let samplePoints = scatterPoints(samples, maximum: maximumPoints)
    let dataPoints = scatterPoints(data, maximum: maximumPoints)
    let (xAxis, yAxis) = scatterAxes(data: dataPoints, samples: samplePoints)
    let panel = scatterPanel(title: title, samples: samplePoints, data: dataPoints, color: seriesColor(0), xAxis: xAxis, yAxis: yAxis)
    var figure = Figure(title: "Samples (colored) over the data (grey)", panels: [panel])
    figure.panelWidth = 480
    figure.panelHeight = 460
    return figure.svg
}

/// The finite points of [count, 2] row-major values, at most `maximum`.
private func scatterPoints(_ values: [Float], maximum: Int) -> [(x: Double, y: Double)] {
    (0..<min(values.count / 2, maximum)).map { (x: Double(values[2 * $0]), y: Double(values[2 * $0 + 1])) }
        .filter { $0.x.isFinite && $0.y.isFinite }
}

/// Axes fitted to the data (to the samples when there are no data), with 5 % room.
private func scatterAxes(data: [(x: Double, y: Double)], samples: [(x: Double, y: Double)]) -> (PlotAxis, PlotAxis) {
    let reference = data.isEmpty ? samples : data
    return (PlotAxis(covering: reference.map(\.x), padding: 0.05), PlotAxis(covering: reference.map(\.y), padding: 0.05))
}

/// One panel: data in grey, samples in `color`, the number of samples outside the view in the subtitle.
private func scatterPanel(title: String, samples: [(x: Double, y: Double)], data: [(x: Double, y: Double)], color: String,
                          xAxis: PlotAxis, yAxis: PlotAxis) -> PlotPanel {
    let outside = samples.filter { point in
        let (fx, fy) = (xAxis.fraction(point.x), yAxis.fraction(point.y))
        return fx < 0 || fx > 1 || fy < 0 || fy > 1
    }.count
    var subtitle = "\(samples.count) samples"
    if outside > 0 { subtitle += ", \(outside) outside the view" }
    var panel = PlotPanel(title: title, subtitle: subtitle, xLabel: "x_1", yLabel: "x_2", xAxis: xAxis, yAxis: yAxis)
    if !data.isEmpty {
        panel.series.append(.scatter(points: data, color: "#c8c8c8", label: "data", radius: 1.6, opacity: 0.8))
    }
    if !samples.isEmpty {
        panel.series.append(.scatter(points: samples, color: color, label: "samples", radius: 1.6, opacity: 0.6))
    }
    return panel
}
