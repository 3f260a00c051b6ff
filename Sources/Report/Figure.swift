/// Panels laid out in a grid under a title, drawn as one SVG document.
public struct Figure {
    public var title: String
    public var panels: [PlotPanel]
    /// Panels per row.
    public var columns: Int
    public var panelWidth: Double = 380
    public var panelHeight: Double = 300

    public init(title: String, panels: [PlotPanel], columns: Int? = nil) {
        self.title = title
        self.panels = panels
        self.columns = max(1, min(columns ?? 3, max(1, panels.count)))
    }

    // Layout constants (pixels).
    private static let figureTitleHeight = 34.0
    private static let marginLeft = 64.0, marginRight = 16.0, marginBottom = 46.0
    private static let legendRowHeight = 14.0, legendEntryGap = 12.0

    /// The horizontal space of one legend entry: its 14-pixel mark, a 4-pixel space, the label and a gap
    /// before the next entry.
    static func legendEntryWidth(_ label: String) -> Double { 18 + Double(label.count) * 6 + legendEntryGap }

    /// The SVG text of the figure.
    public var svg: String {
        let rows = max(1, (panels.count + columns - 1) / columns)
        // Wide enough for the title (about 9 pixels per character at 16 px bold); panels centered.
        let panelsWidth = Double(columns) * panelWidth
        let width = max(panelsWidth, Double(title.count) * 9 + 40)
        var document = SVGDocument(width: width, height: Figure.figureTitleHeight + Double(rows) * panelHeight)
        document.text(title, x: width / 2, y: 22, size: 16, anchor: .middle, bold: true)
        for (index, panel) in panels.enumerated() {
            let left = (width - panelsWidth) / 2 + Double(index % columns) * panelWidth
            let top = Figure.figureTitleHeight + Double(index / columns) * panelHeight
            draw(panel, index: index, left: left, top: top, into: &document)
        }
        return document.text
    }

    private func draw(_ panel: PlotPanel, index: Int, left: Double, top: Double, into document: inout SVGDocument) {
        // Title, subtitle and legend rows above the plot area.
        var headerBottom = top + 16
        document.text(panel.title, x: left + panelWidth / 2, y: headerBottom, size: 13, anchor: .middle, bold: true)
        if let subtitle = panel.subtitle {
            headerBottom += 15
            document.text(subtitle, x: left + panelWidth / 2, y: headerBottom, size: 10.5, anchor: .middle, fill: "#555555")
        }
        let legend = panel.legend
        if !legend.isEmpty {
            headerBottom += 16
            // Entries run left to right and wrap to a new row at the panel's right margin, so that six
            // models' labels stay inside their own panel (they once ran into the next panel and past
            // the figure's edge). Label widths are estimated at 6 pixels per character.
            let rowLeft = left + Figure.marginLeft, rowRight = left + panelWidth - Figure.marginRight
            var x = rowLeft
            for entry in legend {
                let entryWidth = Figure.legendEntryWidth(entry.label)
                if x > rowLeft, x + entryWidth - Figure.legendEntryGap > rowRight {
                    headerBottom += Figure.legendRowHeight
                    x = rowLeft
                }
                switch entry.mark {
                case .box: document.rectangle(x1: x, y1: headerBottom - 9, x2: x + 14, y2: headerBottom + 1, fill: entry.color)
                case .dot: document.circle(cx: x + 7, cy: headerBottom - 4, r: 3.5, fill: entry.color)
                case .line(let dash):
                    document.line(x1: x, y1: headerBottom - 4, x2: x + 14, y2: headerBottom - 4, stroke: entry.color, width: 2, dash: dash)
                }
                document.text(entry.label, x: x + 18, y: headerBottom, size: 10.5)
                x += entryWidth
            }
        }
        let plotLeft = left + Figure.marginLeft, plotRight = left + panelWidth - Figure.marginRight
        let plotTop = headerBottom + 10, plotBottom = top + panelHeight - Figure.marginBottom
        guard plotRight > plotLeft + 10, plotBottom > plotTop + 10 else { return }
        let xAxis = panel.resolvedXAxis, yAxis = panel.resolvedYAxis
        func px(_ x: Double) -> Double { xAxis.pixel(x, from: plotLeft, to: plotRight) }
        func py(_ y: Double) -> Double { yAxis.pixel(y, from: plotBottom, to: plotTop) }
        // Pixel y kept within a band around the plot area (error bars reaching -inf on a log axis).
        func pyClamped(_ y: Double) -> Double {
            let value = py(y)
            if value.isNaN { return value }
            return min(max(value, plotTop - 20), plotBottom + 20)
        }

        // Grid, ticks and labels.
        document.rectangle(x1: plotLeft, y1: plotTop, x2: plotRight, y2: plotBottom, fill: "#ffffff", stroke: "#888888")
        for tick in yAxis.ticks {
            let y = py(tick)
            document.line(x1: plotLeft, y1: y, x2: plotRight, y2: y, stroke: "#e6e6e6")
            document.text(yAxis.tickLabel(tick), x: plotLeft - 5, y: y + 3.5, size: 10, anchor: .end)
        }
        if let labels = panel.xTickLabels {
            let every = max(1, labels.count / 12)
            for (i, entry) in labels.enumerated() where i % every == 0 {
                let x = px(entry.x)
                document.line(x1: x, y1: plotBottom, x2: x, y2: plotBottom + 4, stroke: "#888888")
                document.text(entry.label, x: x, y: plotBottom + 15, size: 10, anchor: .middle)
            }
        } else {
            for tick in xAxis.ticks {
                let x = px(tick)
                document.line(x1: x, y1: plotTop, x2: x, y2: plotBottom, stroke: "#e6e6e6")
                document.text(xAxis.tickLabel(tick), x: x, y: plotBottom + 15, size: 10, anchor: .middle)
            }
        }
        document.rectangle(x1: plotLeft, y1: plotTop, x2: plotRight, y2: plotBottom, fill: "none", stroke: "#888888")
        document.text(panel.xLabel, x: (plotLeft + plotRight) / 2, y: plotBottom + 33, size: 11, anchor: .middle)
        document.text(panel.yLabel, x: left + 14, y: (plotTop + plotBottom) / 2, size: 11, anchor: .middle, rotation: -90)

        // Data, clipped to the plot area.
        let clip = "panel\(index)"
        // A few pixels beyond the frame, so that markers on the edge of the data range stay whole.
        document.defineClipRectangle(id: clip, x: plotLeft - 4, y: plotTop - 4, width: plotRight - plotLeft + 8,
                                     height: plotBottom - plotTop + 8)
        let base = yAxis.scale == .linear ? min(max(0, yAxis.lower), yAxis.upper) : yAxis.lower
        for series in panel.series {
            switch series {
            case .line(let points, let color, _, let dash, let markers):
                document.polyline(points.map { (px($0.x), py($0.y)) }, stroke: color, dash: dash, clip: clip)
                if markers {
                    for point in points { document.circle(cx: px(point.x), cy: py(point.y), r: 2.5, fill: color, clip: clip) }
                }
            case .errorBars(let points, let errors, let color, _, let connect):
                if connect { document.polyline(points.map { (px($0.x), py($0.y)) }, stroke: color, width: 1, clip: clip) }
                for (i, point) in points.enumerated() {
                    let x = px(point.x)
                    if i < errors.count, errors[i].isFinite, errors[i] > 0 {
                        let low = pyClamped(point.y - errors[i]), high = pyClamped(point.y + errors[i])
                        document.line(x1: x, y1: low, x2: x, y2: high, stroke: color, width: 1.2, clip: clip)
                        document.line(x1: x - 4, y1: low, x2: x + 4, y2: low, stroke: color, width: 1.2, clip: clip)
                        document.line(x1: x - 4, y1: high, x2: x + 4, y2: high, stroke: color, width: 1.2, clip: clip)
                    }
                    document.circle(cx: x, cy: py(point.y), r: 3, fill: color, clip: clip)
                }
            case .scatter(let points, let color, _, let radius, let opacity):
                for point in points {
                    document.circle(cx: px(point.x), cy: py(point.y), r: radius, fill: color, opacity: opacity, clip: clip)
                }
            case .bars(let points, let errors, let color, _):
                let spacing = barSpacing(points.map(\.x).filter(\.isFinite))
                let first = points.first(where: { $0.x.isFinite })?.x ?? 0
                let width = abs(px(first + spacing) - px(first)) * 0.35
                let halfWidth = width.isFinite ? min(40, max(0.5, width)) : 3
                for (i, point) in points.enumerated() {
                    let x = px(point.x)
                    document.rectangle(x1: x - halfWidth, y1: py(base), x2: x + halfWidth, y2: pyClamped(point.y),
                                       fill: color, opacity: 0.85, clip: clip)
                    if let errors, i < errors.count, errors[i].isFinite, errors[i] > 0 {
                        let low = pyClamped(point.y - errors[i]), high = pyClamped(point.y + errors[i])
                        document.line(x1: x, y1: low, x2: x, y2: high, stroke: "#222222", width: 1, clip: clip)
                    }
                }
            case .horizontalLine(let y, let color, _, let dash):
                let pixelY = py(y)
                document.line(x1: plotLeft, y1: pixelY, x2: plotRight, y2: pixelY, stroke: color, width: 1.5,
                              dash: dash, clip: clip)
            }
        }
    }
}
