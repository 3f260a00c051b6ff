/// One panel of a figure: axes, a title and the series drawn in it (what, not how: see
/// ``Figure`` for the drawing).
public struct PlotPanel {
    /// Something drawn in a panel, in data coordinates.
    public enum Series {
        /// A line through the points (optionally with a dot at each).
        case line(points: [(x: Double, y: Double)], color: String, label: String?, dash: String? = nil, markers: Bool = false)
        /// Points with vertical error bars ±`errors` (NaN: no bar), joined by a thin line when `connect`.
        case errorBars(points: [(x: Double, y: Double)], errors: [Double], color: String, label: String?, connect: Bool = true)
        /// Dots.
        case scatter(points: [(x: Double, y: Double)], color: String, label: String?, radius: Double = 2, opacity: Double = 0.7)
        /// Vertical bars from the axis base (0, or the lower end of a log axis) with optional ±errors.
        case bars(points: [(x: Double, y: Double)], errors: [Double]?, color: String, label: String?)
        /// A horizontal line across the panel.
        case horizontalLine(y: Double, color: String, label: String?, dash: String? = "6 4")
    }

    public var title: String
    public var subtitle: String?
    public var xLabel: String
    public var yLabel: String
    public var xScale: PlotAxis.Scale
    public var yScale: PlotAxis.Scale
    /// Fixed axes (e.g. shared between panels); computed from the series when nil.
    public var xAxis: PlotAxis?
    public var yAxis: PlotAxis?
    /// Labels at given x positions instead of numeric ticks (bar charts of named layers).
    public var xTickLabels: [(x: Double, label: String)]?
    public var series: [Series]

    public init(title: String, subtitle: String? = nil, xLabel: String, yLabel: String,
                xScale: PlotAxis.Scale = .linear, yScale: PlotAxis.Scale = .linear,
                xAxis: PlotAxis? = nil, yAxis: PlotAxis? = nil, xTickLabels: [(x: Double, label: String)]? = nil,
                series: [Series] = []) {
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xScale = xScale
        self.yScale = yScale
        self.xAxis = xAxis
        self.yAxis = yAxis
        self.xTickLabels = xTickLabels
        self.series = series
    }

    /// Every x value of the series.
    var xValues: [Double] {
        series.flatMap { series -> [Double] in
            switch series {
            case .line(let points, _, _, _, _), .errorBars(let points, _, _, _, _), .scatter(let points, _, _, _, _):
                return points.map(\.x)
            case .bars(let points, _, _, _):
                // Leave half a bar of room on each side.
                let xs = points.map(\.x).filter(\.isFinite)
                let half = barSpacing(xs) / 2
                return xs.flatMap { [$0 - half, $0 + half] }
            case .horizontalLine: return []
            }
        }
    }

    /// Every y value of the series, error bars included, and the bars' base.
    var yValues: [Double] {
        series.flatMap { series -> [Double] in
            switch series {
            case .line(let points, _, _, _, _), .scatter(let points, _, _, _, _): return points.map(\.y)
            case .errorBars(let points, let errors, _, _, _): return withErrors(points, errors)
            case .bars(let points, let errors, _, _):
                return withErrors(points, errors ?? []) + (yScale == .linear ? [0] : [])
            case .horizontalLine(let y, _, _, _): return [y]
            }
        }
    }

    /// The panel's axes: the fixed ones, or ones covering the data.
    /// The x axis is not padded (steps and layer indices end where the data end); the y axis is.
    var resolvedXAxis: PlotAxis { xAxis ?? PlotAxis(covering: xValues, scale: xScale, padding: 0) }
    var resolvedYAxis: PlotAxis { yAxis ?? PlotAxis(covering: yValues, scale: yScale) }

    /// How a legend entry is drawn: like its series.
    enum LegendMark { case box, dot, line(dash: String?) }

    /// Labels of the series that have one, with their colors and marks.
    var legend: [(label: String, color: String, mark: LegendMark)] {
        series.compactMap { series in
            switch series {
            case .line(_, let color, let label, let dash, _): return label.map { ($0, color, .line(dash: dash)) }
            case .errorBars(_, _, let color, let label, _), .scatter(_, let color, let label, _, _):
                return label.map { ($0, color, .dot) }
            case .bars(_, _, let color, let label): return label.map { ($0, color, .box) }
            case .horizontalLine(_, let color, let label, let dash): return label.map { ($0, color, .line(dash: dash)) }
            }
        }
    }
}

private func withErrors(_ points: [(x: Double, y: Double)], _ errors: [Double]) -> [Double] {
    points.enumerated().flatMap { i, point -> [Double] in
        guard i < errors.count, errors[i].isFinite else { return [point.y] }
        return [point.y - errors[i], point.y, point.y + errors[i]]
    }
}

/// The smallest distance between neighbouring bar positions (1 for a single bar).
func barSpacing(_ xs: [Double]) -> Double {
    let sorted = Array(Set(xs)).sorted()
    guard sorted.count >= 2 else { return 1 }
    return zip(sorted.dropFirst(), sorted).map { $0 - $1 }.min()!
}

/// Colors for series, distinguishable and colorblind-friendly (Okabe–Ito).
public let seriesPalette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

/// The palette color for series `index` (cycling).
public func seriesColor(_ index: Int) -> String { seriesPalette[index % seriesPalette.count] }
