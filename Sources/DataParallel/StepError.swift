/// A one-line error of the step's owner: what is wrong and how to fix it. `badArgument`: the
/// caller passed something that cannot work (a group, a setting); otherwise the run went wrong
/// (a workload reported a segment it does not have).
public struct StepError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let badArgument: Bool

    public init(_ message: String, badArgument: Bool = false) {
        self.message = message
        self.badArgument = badArgument
    }

    public var description: String { message }
}
