/// A GitHub-flavoured Markdown table.
public struct MarkdownTable {
    public enum Alignment { case left, right, center }

    public var headers: [String]
    public var alignments: [Alignment]
    public private(set) var rows: [[String]] = []

    public init(headers: [String], alignments: [Alignment]? = nil) {
        self.headers = headers
        self.alignments = alignments ?? Array(repeating: .left, count: headers.count)
        precondition(self.alignments.count == headers.count, "one alignment per column")
    }

    /// Appends a row (missing cells are empty, extra cells are an error).
    public mutating func append(_ cells: [String]) {
        precondition(cells.count <= headers.count, "\(cells.count) cells for \(headers.count) columns")
        rows.append(cells + Array(repeating: "", count: headers.count - cells.count))
    }

    /// The table's text, one line per row, ending with a newline.
    public var text: String {
        var lines = [line(headers)]
        lines.append("|" + alignments.map { alignment -> String in
            switch alignment {
            case .left: return "---"
            case .right: return "---:"
            case .center: return ":---:"
            }
        }.joined(separator: "|") + "|")
        lines += rows.map(line)
        return lines.joined(separator: "\n") + "\n"
    }

    private func line(_ cells: [String]) -> String {
        "| " + cells.map(escapeMarkdownCell).joined(separator: " | ") + " |"
    }
}

/// A cell's text with pipes escaped and line breaks turned into spaces.
public func escapeMarkdownCell(_ text: String) -> String {
    var result = ""
    for character in text {
        switch character {
        case "|": result += "\\|"
        case "\n", "\r", "\r\n": result += " "
        default: result.append(character)
        }
    }
    return result
}
