/// A failure anywhere in the Store module, as one readable line.
///
/// Every error names the file, the object inside it (an HDF5 path such as `/train`,
/// or `attribute 'likelihood' of /`) when there is one, and the cause:
///
///     Datasets/gmm2d.h5: /train: contains NaN at row 17, column 1
///
/// HDF5's own error printing is switched off (see ``HDF5Library``); its most specific
/// message is folded into ``cause`` instead.
public struct StoreError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the operation was about, as the caller spelled its path.
    public var file: String
    /// The object inside the file, or `nil` when the failure concerns the whole file.
    public var object: String?
    /// What went wrong, in words.
    public var cause: String

    public init(file: String, object: String? = nil, cause: String) {
        self.file = file
        self.object = object
        self.cause = cause
    }

    /// `file: object: cause`, or `file: cause` without an object.
    public var description: String {
        if let object { return "\(file): \(object): \(cause)" }
        return "\(file): \(cause)"
    }
}

/// How an attribute is named inside error messages: `attribute 'name' of /path`.
func attributeObjectName(_ name: String, of objectPath: String) -> String {
    "attribute '\(name)' of \(objectPath)"
}
