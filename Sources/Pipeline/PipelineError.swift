/// A problem a pipeline step found itself (an option that does not fit, a file in the wrong
/// state), as the one line the command line prints: it names the file or the option.
public struct PipelineError: Error, CustomStringConvertible, Equatable, Sendable {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
