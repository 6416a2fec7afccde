/// Why a checkpoint was refused or could not be written: one line for the user. `kind` lets
/// tests tell the failures apart without matching text.
public struct CheckpointError: Error, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case badMagic, badVersion, badHeader, truncated, checksum, mismatch, io, none
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    static func header(_ message: String) -> CheckpointError { CheckpointError(.badHeader, "bad header: " + message) }

    /// The same failure, prefixed with the file it concerns.
    func about(_ path: String) -> CheckpointError { CheckpointError(kind, "checkpoint \(path): \(message)") }
}
