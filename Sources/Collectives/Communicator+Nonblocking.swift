import CMPI

/// Outstanding non-blocking collectives, completed together.
public struct PendingRequests {
    private var handles: [MPI_Request?] = []

    public init() {}

    public var isEmpty: Bool { handles.isEmpty }

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

    /// Every rank sends `blockCount` floats from `block`; `buffer` receives size*blockCount, by rank.
    public func allgather(_ block: UnsafePointer<Float>, into buffer: UnsafeMutablePointer<Float>, blockCount: Int) throws {
        try check(MPI_Allgather(block, Int32(blockCount), CMPI_FLOAT(), buffer, Int32(blockCount), CMPI_FLOAT(), handle),
                  "MPI_Allgather(\(blockCount) floats per rank)")
    }
}

extension Communicator {
    /// The ranks passing `member: true` form a new communicator ordered by `key`; the others
    /// get nil (MPI_Comm_split with MPI_UNDEFINED). Collective.
    public func subset(member: Bool, key: Int) throws -> Communicator? {
        var out: MPI_Comm? = nil
        try check(MPI_Comm_split(handle, member ? 0 : CMPI_UNDEFINED(), Int32(key), &out), "MPI_Comm_split")
        guard member, let out else { return nil }
        return try Communicator(handle: out, owned: true)
    }
}
