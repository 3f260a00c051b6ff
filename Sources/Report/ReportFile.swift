/// One file of a report: a name relative to the report's folder and its bytes. The caller
/// writes the files (atomically) next to each other, so relative links between them hold.
public struct ReportFile: Equatable, Sendable {
    public let name: String
    public let contents: [UInt8]

    public init(name: String, contents: [UInt8]) {
        self.name = name
        self.contents = contents
    }

    public init(name: String, text: String) {
        self.init(name: name, contents: Array(text.utf8))
    }

    /// The contents as UTF-8 text (for the Markdown and SVG files).
    public var text: String { String(decoding: contents, as: UTF8.self) }
}
