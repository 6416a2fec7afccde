import CMPI

/// An MPI call that did not return MPI_SUCCESS, with MPI's own error string.
public struct MPIError: Error, CustomStringConvertible {
    public let call: String
    public let code: Int32
    public let text: String

    public var description: String { "\(call) failed (MPI error \(code)): \(text)" }

    init(call: String, code: Int32) {
        self.call = call
        self.code = code
        var buffer = [CChar](repeating: 0, count: Int(CMPI_MAX_ERROR_STRING()) + 1)
        var length: Int32 = 0
        if MPI_Error_string(code, &buffer, &length) == CMPI_SUCCESS() {
            self.text = String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        } else {
            self.text = "unknown error"
        }
    }
}

/// An MPI call that returned MPI_SUCCESS but not what was asked for (a short read, a thread
/// level below the one requested, no shared base address): names the call and what was missing.
public struct MPIShortfall: Error, CustomStringConvertible {
    public let call: String
    public let problem: String

    public var description: String { "\(call) succeeded but \(problem)" }

    init(call: String, problem: String) {
        self.call = call
        self.problem = problem
    }
}

/// Turns an MPI return code into a thrown `MPIError`.
@inline(__always)
func check(_ code: Int32, _ call: @autoclosure () -> String) throws {
    if code != CMPI_SUCCESS() { throw MPIError(call: call(), code: code) }
}

/// An error every rank agreed on (see `Communicator.agree(_:)`): the message of the lowest
/// failing rank, the same on all ranks, so that each exits non-zero and rank 0 prints it once.
public struct CollectiveFailure: Error, CustomStringConvertible {
    public let failingRank: Int
    public let message: String
    public var description: String { message }

    /// For failures every rank detects identically on its own (e.g. from a globally reduced value).
    public init(failingRank: Int, message: String) {
        self.failingRank = failingRank
        self.message = message
    }
}
