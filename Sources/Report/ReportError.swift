/// Why a report cannot be made. Every description is one line.
public enum ReportError: Error, CustomStringConvertible, Equatable {
    /// No runs were given.
    case noRuns
    /// The runs are on different datasets or under different likelihoods; models are only
    /// compared on the same data under the same likelihood.
    case mixedData(String)
    /// A run's evaluation does not fit its metadata (e.g. the data dimension differs).
    case inconsistentRun(String)
    /// One checkpoint was given twice (see ``refuseRepeatedRuns(_:)``).
    case repeatedRun(String)
    /// libpng could not encode an image.
    case imageEncoding(String)

    public var description: String {
        switch self {
        case .noRuns: return "no runs to report: give at least one evaluated checkpoint"
        case .mixedData(let message), .inconsistentRun(let message), .repeatedRun(let message): return message
        case .imageEncoding(let message): return "could not encode a PNG image: \(message)"
        }
    }
}
