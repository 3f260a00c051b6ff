/// Errors raised by models and their components, with a one-line description.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// An option or configuration value that cannot work.
    case invalidConfiguration(String)
    /// Saved state that does not fit the model.
    case invalidState(String)
    /// A computation produced NaN or ±∞.
    case nonFinite(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message), .invalidState(let message), .nonFinite(let message): return message
        }
    }
}
