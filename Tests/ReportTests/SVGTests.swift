import Core
import Evaluation
import Foundation
import Report
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Collects the root element, the xmlns and every attribute value of a parsed document.
private final class SVGCollector: NSObject, XMLParserDelegate {
    var root: String?
    var namespace: String?
    var elements: [(name: String, attributes: [String: String])] = []

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        if root == nil {
            root = elementName
            namespace = attributeDict["xmlns"]
        }
        elements.append((elementName, attributeDict))
    }
}

final class SVGTests: XCTestCase {
    /// Attributes that hold coordinates or lengths.
    private static let numericAttributes: Set<String> = ["x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "width", "height",
                                                         "points", "viewBox", "font-size", "stroke-width", "fill-opacity"]

    private func assertValidSVG(_ text: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let parser = XMLParser(data: Data(text.utf8))
        let collector = SVGCollector()
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "\(name) is not well-formed XML: \(String(describing: parser.parserError))", file: file, line: line)
        XCTAssertEqual(collector.root, "svg", name, file: file, line: line)
        XCTAssertEqual(collector.namespace, "http://www.w3.org/2000/svg", name, file: file, line: line)
        XCTAssertTrue(text.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\""), name, file: file, line: line)
        XCTAssertGreaterThan(collector.elements.count, 10, name, file: file, line: line)
        for element in collector.elements {
            for (key, value) in element.attributes where SVGTests.numericAttributes.contains(key) {
                let tokens = value.split(whereSeparator: { $0 == " " || $0 == "," })
                XCTAssertFalse(tokens.isEmpty, "\(name): empty \(key)", file: file, line: line)
                for token in tokens {
                    let number = Double(token)
                    XCTAssertTrue(number?.isFinite == true, "\(name): <\(element.name) \(key)=\"\(value)\"> is not finite",
                                  file: file, line: line)
                }
            }
            if let transform = element.attributes["transform"] {
                XCTAssertFalse(transform.lowercased().contains("nan") || transform.lowercased().contains("inf"), name, file: file, line: line)
            }
        }
    }

    func testReportPlots_areValidSVG() throws {
        var count = 0
        for (runs, name) in [(Fixtures.gmmRuns, "gmm2d"), (Fixtures.imageRuns(), "digits")] {
            for file in try makeComparisonReport(title: "t", runs: runs, reportName: name, command: "c") where file.name.hasSuffix(".svg") {
                assertValidSVG(file.text, file.name)
                count += 1
            }
        }
        XCTAssertEqual(count, 6)
    }

    /// One test example (undefined s.e.), a deep DDPM whose L_t span decades (log axis, line mode),
    /// non-finite training losses and samples, text that needs escaping: still valid, still finite.
    func testReportPlots_stayFiniteOnEdgeCases() throws {
        let layers = 200
        let kl = (1...layers).map { t in [0.001 * pow(1.04, Double(t))] }
        let deep = Fixtures.evaluation(dimension: 2, sampleCounts: [1, 4, 16], reconstruction: [0.3],
                                       layerNames: (1...layers).map { "L_\($0)" }, layerKL: kl,
                                       iwae: [[-9.0], [-8.5], [-8.4]], logDensity: [-1.0])
        var run = Fixtures.run(path: "Runs/<deep & \"odd\">.h5", model: .ddpm, description: "T = 200 <cosine> & 'learned'",
                               encoderParameters: 0, decoderParameters: 10, latentLayers: layers, trainingSeconds: 1,
                               evaluation: deep, lossSteps: [0, 1, 2, 3], losses: [1e4, .nan, 0.5, 0.01],
                               testELBOSteps: [3], testELBOs: [-9], samples: [.nan, 1, 2, .infinity, 0.5, 0.5])
        run.datasetName = "edge"
        let files = try makeComparisonReport(title: "Edge <cases> & more", runs: [run], reportName: "edge", command: "c")
        XCTAssertEqual(files.map(\.name), ["edge.md", "edge-training.svg", "edge-layers.svg", "edge-iwae.svg", "edge-samples.svg"])
        try Fixtures.dumpForReview(files)
        for file in files.dropFirst() { assertValidSVG(file.text, file.name) }
        XCTAssertTrue(files[0].text.contains("± n/a"), "one example has no standard error")
    }

    func testFigure_drawsEverySeriesKindOnLogAxes() {
        var panel = PlotPanel(title: "all kinds", xLabel: "K", yLabel: "y", xScale: .logarithmic, yScale: .logarithmic)
        panel.series = [
            .line(points: [(1, 1), (10, 5), (100, 50)], color: "#000", label: "line", markers: true),
            .errorBars(points: [(1, 2), (10, 3)], errors: [3, .nan], color: "#111", label: "bars ±"),
            .scatter(points: [(2, 2), (0, 1)], color: "#222", label: nil),
            .bars(points: [(3, 4), (30, 40)], errors: [1, 100], color: "#333", label: "bars"),
            .horizontalLine(y: 7, color: "#444", label: "-H"),
        ]
        let svg = Figure(title: "kinds", panels: [panel, panel]).svg
        assertValidSVG(svg, "kinds")
        XCTAssertTrue(svg.contains("<polyline"))
        XCTAssertTrue(svg.contains("clip-path=\"url(#panel1)\""))
    }

    /// Six models' legend entries in each of two panels: every label starts and (at the layout's estimate of
    /// 6 pixels per character) ends inside its own panel, and the entries wrap to a second row rather than
    /// running into the next panel or past the figure's edge, as they once did in the Fashion-MNIST reports.
    func testLegend_wrapsInsideItsOwnPanel() throws {
        let labels = ["VAE (conv)", "HVAE (conv)", "DDPM (conv)", "VAE (MLP)", "HVAE (MLP)", "DDPM (MLP)"]
        var panel = PlotPanel(title: "loss", xLabel: "step", yLabel: "loss")
        panel.series = labels.enumerated().map { index, label in
            .line(points: [(0, Double(index)), (1, Double(index) + 1)], color: "#000", label: label)
        }
        let figure = Figure(title: "Training curves", panels: [panel, panel])
        let svg = figure.svg
        assertValidSVG(svg, "legend")
        let pattern = try NSRegularExpression(pattern: #"<text x="([0-9.]+)" y="([0-9.]+)"[^>]*>([^<]*)</text>"#)
        let range = NSRange(svg.startIndex..., in: svg)
        var placed: [(label: String, x: Double, y: Double)] = []
        for match in pattern.matches(in: svg, range: range) {
            let field = { (i: Int) in String(svg[Range(match.range(at: i), in: svg)!]) }
            if labels.contains(field(3)) { placed.append((field(3), Double(field(1))!, Double(field(2))!)) }
        }
        XCTAssertEqual(placed.count, 2 * labels.count)
        for (index, entry) in placed.enumerated() {
            let panelLeft = Double(index / labels.count) * figure.panelWidth
            let panelRight = panelLeft + figure.panelWidth
            XCTAssertGreaterThanOrEqual(entry.x, panelLeft, entry.label)
            XCTAssertLessThanOrEqual(entry.x + Double(entry.label.count) * 6, panelRight, "\(entry.label) at x = \(entry.x) runs past its panel")
        }
        let rows = Set(placed.prefix(labels.count).map(\.y))
        XCTAssertGreaterThan(rows.count, 1, "six labels do not fit one row of a 380-pixel panel")
        // Entries on one row do not overlap.
        for row in rows {
            let onRow = placed.prefix(labels.count).filter { $0.y == row }.sorted { $0.x < $1.x }
            for (a, b) in zip(onRow, onRow.dropFirst()) {
                XCTAssertLessThanOrEqual(a.x + Double(a.label.count) * 6, b.x - 18, "\(a.label) overlaps \(b.label)")
            }
        }
    }

    func testEscapeXML_escapesSpecialCharactersAndDropsControls() {
        XCTAssertEqual(escapeXML("a<b & \"c\" 'd'>\u{1}"), "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
    }
}

final class TrainingLogTests: XCTestCase {
    func testLongTrainingLog_isThinnedInThePlot() throws {
        var run = Fixtures.vae
        run.lossSteps = (0..<50_000).map(Double.init)
        run.losses = run.lossSteps.map { 3 + 1 / ($0 + 1) }
        let svg = try XCTUnwrap(makeComparisonReport(title: "t", runs: [run], reportName: "long", command: "c")
            .first { $0.name == "long-training.svg" }).text
        let polyline = try XCTUnwrap(svg.components(separatedBy: "\n").first { $0.hasPrefix("<polyline") })
        let pointCount = polyline.components(separatedBy: " ").filter { $0.contains(",") }.count
        XCTAssertLessThanOrEqual(pointCount, 1000)
        XCTAssertGreaterThan(pointCount, 900)
        XCTAssertLessThan(svg.utf8.count, 100_000)
    }
}

final class SampleScatterTests: XCTestCase {
    func testSampleScatterSVG_isValidWithDataAndSamples() throws {
        let svg = sampleScatterSVG(samples: [0.5, 0.4, -1.1, 0.9, .nan, 1, 30, 30], data: [0.6, 0.5, -1.0, 1.0, 2.0, -0.5],
                                   title: "ddpm samples (Runs/<a>.h5)")
        let parser = XMLParser(data: Data(svg.utf8))
        XCTAssertTrue(parser.parse())
        XCTAssertTrue(svg.contains("3 samples, 1 outside the view"))
        XCTAssertTrue(svg.contains("Runs/&lt;a&gt;.h5"))
        XCTAssertFalse(svg.lowercased().contains("nan"))
        XCTAssertEqual(svg.components(separatedBy: "<circle").count - 1, 3 + 3 + 2, "3 data, 3 samples, 2 legend dots")
    }
}
