import CMPI

/// Outstanding non-blocking collectives, completed together.
public struct PendingRequests {
    private var handles: [MPI_Request?] = []

    public init() {}

    mutating func append(_ request: MPI_Request?) { handles.append(request) }

    /// Drives progress (MPI_Testall) without blocking; true when every request is complete.
    public mutating func test() throws -> Bool {
        if handles.isEmpty { return true }
        var flag: Int32 = 0
        let n = Int32(handles.count)
        try handles.withUnsafeMutableBufferPointer { h in
            try check(MPI_Testall(n, h.baseAddress, &flag, CMPI_STATUSES_IGNORE()), "MPI_Testall")
        }
        if flag != 0 { handles.removeAll(keepingCapacity: true) }
        return flag != 0
    }

    /// Blocks until every request is complete (MPI_Waitall).
    public mutating func wait() throws {
        if handles.isEmpty { return }
        let n = Int32(handles.count)
        try handles.withUnsafeMutableBufferPointer { h in
            try check(MPI_Waitall(n, h.baseAddress, CMPI_STATUSES_IGNORE()), "MPI_Waitall")
        }
        handles.removeAll(keepingCapacity: true)
    }
}

extension Communicator {
    /// Starts an in-place sum over all ranks (MPI_Iallreduce); complete it through `pending`.
    public func iallreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int, pending: inout PendingRequests) throws {
        var request: MPI_Request? = nil
        try check(MPI_Iallreduce(CMPI_IN_PLACE(), buffer, Int32(count), CMPI_FLOAT(), CMPI_SUM(), handle, &request),
                  "MPI_Iallreduce(\(count) floats)")
        pending.append(request)
    }
}
