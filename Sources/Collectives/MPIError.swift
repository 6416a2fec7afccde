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

/// An MPI call that returned MPI_SUCCESS but not what was asked for: a thread level below the
/// one requested, no shared base address, an MPI-IO transfer that moved fewer elements than
/// asked (a read past the end of the file, or a write the file system refused part of: full
/// disk, quota). Names the call and what was missing.
public struct MPIShortfall: Error, CustomStringConvertible {
    public let call: String
    public let problem: String

    public var description: String { "\(call) succeeded but \(problem)" }

    init(call: String, problem: String) {
        self.call = call
        self.problem = problem
    }

    /// Throws unless `status` counts exactly `expected` elements of `type` ("wrote 3 of 5 bytes
    /// at byte 64 (the file system refused the rest: full disk or quota?)").
    static func checkTransfer(_ status: inout MPI_Status, _ type: MPI_Datatype, expected: Int, unit: String, verb: String,
                              call: String, offset: Int) throws {
        var got: Int32 = 0
        MPI_Get_count(&status, type, &got)
        guard Int(got) != expected else { return }
        let why = verb == "wrote" ? " (the file system refused the rest: full disk or quota?)" : " (the file ends first)"
        throw MPIShortfall(call: call, problem: "\(verb) \(max(0, Int(got))) of \(expected) \(unit) at byte \(offset)\(why)")
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
