/// A standalone SVG 1.1 document built element by element.
///
/// Coordinates are written with at most two decimals; elements with a non-finite coordinate
/// are dropped rather than written (a plot never contains "nan" or "inf"). Text is escaped.
public struct SVGDocument {
    public let width: Double
    public let height: Double
    private var body: [String] = []
    private var definitions: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
        body.append("<rect x=\"0\" y=\"0\" width=\"\(svgNumber(width))\" height=\"\(svgNumber(height))\" fill=\"#ffffff\"/>")
    }

    /// The complete document as UTF-8 text.
    public var text: String {
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8" standalone="no"?>"#,
            #"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\#(svgNumber(width))" height="\#(svgNumber(height))" viewBox="0 0 \#(svgNumber(width)) \#(svgNumber(height))" font-family="Helvetica, Arial, sans-serif">"#,
        ]
        if !definitions.isEmpty { lines.append("<defs>"); lines += definitions; lines.append("</defs>") }
        lines += body
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A straight line segment.
    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String,
                              width: Double = 1, dash: String? = nil, clip: String? = nil) {
        guard [x1, y1, x2, y2].allSatisfy(\.isFinite) else { return }
        body.append("<line x1=\"\(svgNumber(x1))\" y1=\"\(svgNumber(y1))\" x2=\"\(svgNumber(x2))\" y2=\"\(svgNumber(y2))\""
            + strokeAttributes(stroke, width: width, dash: dash) + clipAttribute(clip) + "/>")
    }

    /// A polyline through `points`; runs of finite points are drawn, non-finite points break the line.
    public mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double = 1.5,
                                  dash: String? = nil, clip: String? = nil) {
        var run: [(x: Double, y: Double)] = []
        func flush() {
            if run.count >= 2 {
                let list = run.map { "\(svgNumber($0.x)),\(svgNumber($0.y))" }.joined(separator: " ")
                body.append("<polyline points=\"\(list)\" fill=\"none\"" + strokeAttributes(stroke, width: width, dash: dash)
                    + " stroke-linejoin=\"round\"" + clipAttribute(clip) + "/>")
            }
            run.removeAll()
        }
        for point in points {
            if point.x.isFinite && point.y.isFinite { run.append(point) } else { flush() }
        }
        flush()
    }

    /// A filled circle.
    public mutating func circle(cx: Double, cy: Double, r: Double, fill: String, opacity: Double? = nil,
                                clip: String? = nil) {
        guard [cx, cy, r].allSatisfy(\.isFinite) else { return }
        var element = "<circle cx=\"\(svgNumber(cx))\" cy=\"\(svgNumber(cy))\" r=\"\(svgNumber(r))\" fill=\"\(escapeXML(fill))\""
        if let opacity { element += " fill-opacity=\"\(svgNumber(opacity))\"" }
        body.append(element + clipAttribute(clip) + "/>")
    }

    /// A rectangle given by two corners (in any order).
    public mutating func rectangle(x1: Double, y1: Double, x2: Double, y2: Double, fill: String,
                                   stroke: String? = nil, opacity: Double? = nil, clip: String? = nil) {
        guard [x1, y1, x2, y2].allSatisfy(\.isFinite) else { return }
        var element = "<rect x=\"\(svgNumber(min(x1, x2)))\" y=\"\(svgNumber(min(y1, y2)))\" width=\"\(svgNumber(abs(x2 - x1)))\" height=\"\(svgNumber(abs(y2 - y1)))\" fill=\"\(escapeXML(fill))\""
        if let opacity { element += " fill-opacity=\"\(svgNumber(opacity))\"" }
        if let stroke { element += strokeAttributes(stroke, width: 1, dash: nil) }
        body.append(element + clipAttribute(clip) + "/>")
    }

    public enum Anchor: String { case start, middle, end }

    /// Text at (x, y) (the baseline), optionally rotated by `rotation` degrees about that point.
    public mutating func text(_ content: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
                              fill: String = "#222222", bold: Bool = false, rotation: Double? = nil) {
        guard [x, y, size].allSatisfy(\.isFinite) else { return }
        var element = "<text x=\"\(svgNumber(x))\" y=\"\(svgNumber(y))\" font-size=\"\(svgNumber(size))\" text-anchor=\"\(anchor.rawValue)\" fill=\"\(escapeXML(fill))\""
        if bold { element += " font-weight=\"bold\"" }
        if let rotation, rotation.isFinite {
            element += " transform=\"rotate(\(svgNumber(rotation)) \(svgNumber(x)) \(svgNumber(y)))\""
        }
        body.append(element + ">\(escapeXML(content))</text>")
    }

    /// Defines a rectangular clip path named `id` for elements drawn with `clip: id`.
    public mutating func defineClipRectangle(id: String, x: Double, y: Double, width: Double, height: Double) {
        definitions.append("<clipPath id=\"\(escapeXML(id))\"><rect x=\"\(svgNumber(x))\" y=\"\(svgNumber(y))\" width=\"\(svgNumber(max(0, width)))\" height=\"\(svgNumber(max(0, height)))\"/></clipPath>")
    }

    private func strokeAttributes(_ stroke: String, width: Double, dash: String?) -> String {
        var attributes = " stroke=\"\(escapeXML(stroke))\" stroke-width=\"\(svgNumber(width))\""
        if let dash { attributes += " stroke-dasharray=\"\(escapeXML(dash))\"" }
        return attributes
    }

    private func clipAttribute(_ clip: String?) -> String {
        clip.map { " clip-path=\"url(#\(escapeXML($0)))\"" } ?? ""
    }
}

/// A coordinate with at most two decimals and no trailing zeros ("12", "12.5", "-3.25").
func svgNumber(_ value: Double) -> String {
    precondition(value.isFinite, "SVG coordinates must be finite")
    var text = formatFixed(value, decimals: 2)
    if text.contains(".") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return text == "-0" ? "0" : text
}

/// Escapes the five XML special characters for text and attribute values and drops control characters.
public func escapeXML(_ text: String) -> String {
    var result = ""
    result.reserveCapacity(text.utf8.count)
    for character in text {
        switch character {
        case "&": result += "&amp;"
        case "<": result += "&lt;"
        case ">": result += "&gt;"
        case "\"": result += "&quot;"
        case "'": result += "&apos;"
        case "\t", "\n": result.append(character)
        default:
            // Control characters are not allowed in XML 1.0 documents: drop them.
            if character.unicodeScalars.allSatisfy({ $0.value >= 0x20 && !(0x7F...0x9F).contains($0.value) }) {
                result.append(character)
            }
        }
    }
    return result
}
