/// A text-data failure, described in one line that names the file (or the input) and the fix.
public struct TextDataError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
