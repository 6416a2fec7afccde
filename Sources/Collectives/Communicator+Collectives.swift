import CMPI

/// The collectives the trainer uses, typed. Counts are element counts.
extension Communicator {
    /// Scalar collectives this process has started (allreduces of a few doubles or one
    /// integer: norms, metrics, agreements, stop flags), over every communicator. The gradient
    /// exchange (float buffers, bit planes) is not counted. Only the main thread calls MPI, so a
    /// plain counter: a test reads it before and after a step.
    nonisolated(unsafe) public private(set) static var scalarCollectives = 0

    /// In place sum over all ranks.
    public func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {
        try check(MPI_Allreduce(CMPI_IN_PLACE(), buffer, Int32(count), CMPI_FLOAT(), CMPI_SUM(), handle),
                  "MPI_Allreduce(\(count) floats)")
    }

    /// In place sum of a few doubles (metrics, norms).
    public func allreduceSum(_ values: inout [Double]) throws {
        let n = Int32(values.count)
        Communicator.scalarCollectives += 1
        try values.withUnsafeMutableBufferPointer { buffer in
            try check(MPI_Allreduce(CMPI_IN_PLACE(), buffer.baseAddress, n, CMPI_DOUBLE(), CMPI_SUM(), handle),
                      "MPI_Allreduce(\(n) doubles)")
        }
    }

    public func allreduceSum(_ value: Double) throws -> Double {
        var values = [value]
        try allreduceSum(&values)
        return values[0]
    }

    public func allreduceMin(_ value: Int64) throws -> Int64 {
        var v = value
        Communicator.scalarCollectives += 1
        try check(MPI_Allreduce(CMPI_IN_PLACE(), &v, 1, CMPI_INT64(), CMPI_MIN(), handle), "MPI_Allreduce(min)")
        return v
    }

    public func allreduceMax(_ value: Int64) throws -> Int64 {
        var v = value
        Communicator.scalarCollectives += 1
        try check(MPI_Allreduce(CMPI_IN_PLACE(), &v, 1, CMPI_INT64(), CMPI_MAX(), handle), "MPI_Allreduce(max)")
        return v
    }

    /// Rank r's block of `blockCount` floats sits at buffer + r*blockCount; afterwards every
    /// rank holds every block.
    public func allgatherInPlace(_ buffer: UnsafeMutablePointer<Float>, blockCount: Int) throws {
        try check(MPI_Allgather(CMPI_IN_PLACE(), 0, CMPI_FLOAT(), buffer, Int32(blockCount), CMPI_FLOAT(), handle),
                  "MPI_Allgather(\(blockCount) floats per rank)")
    }

    /// Every rank sends `blockCount` floats from `block`; `buffer` receives size*blockCount, by rank.
    public func allgather(_ block: UnsafePointer<Float>, into buffer: UnsafeMutablePointer<Float>, blockCount: Int) throws {
        try check(MPI_Allgather(block, Int32(blockCount), CMPI_FLOAT(), buffer, Int32(blockCount), CMPI_FLOAT(), handle),
                  "MPI_Allgather(\(blockCount) floats per rank)")
    }
    /// Sums `buffer` (size*blockCount floats) over all ranks; rank r receives block r in `block`.
    public func reduceScatterBlock(_ buffer: UnsafePointer<Float>, into block: UnsafeMutablePointer<Float>,
                                   blockCount: Int) throws {
        try check(MPI_Reduce_scatter_block(buffer, block, Int32(blockCount), CMPI_FLOAT(), CMPI_SUM(), handle),
                  "MPI_Reduce_scatter_block(\(blockCount) floats per rank)")
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) throws {
        try check(MPI_Bcast(buffer, Int32(bytes), CMPI_BYTE(), Int32(root), handle), "MPI_Bcast")
    }

    /// Every rank contributes the same number of integers; every rank receives all of them,
    /// ordered by rank (no byte packing: MPI_INT64_T).
    public func allgather(_ local: [Int64]) throws -> [[Int64]] {
        try allgather(local, CMPI_INT64(), "int64")
    }

    /// The same for unsigned words (bit masks), as MPI_UINT64_T.
    public func allgather(_ local: [UInt64]) throws -> [[UInt64]] {
        try allgather(local, CMPI_UINT64(), "uint64")
    }

    /// Every rank's string, ordered by rank (each cut to `capacity - 1` UTF-8 bytes).
    public func allgather(_ text: String, capacity: Int) throws -> [String] {
        try allgather(FixedWidthText.encode(text, capacity: capacity), CMPI_BYTE(), "bytes").map(FixedWidthText.decode)
    }

    /// Every rank's floats (the same count on each), one block after another in rank order.
    public func allgatherJoined(_ local: [Float]) throws -> [Float] {
        try allgatherJoined(local, CMPI_FLOAT(), "floats")
    }

    private func allgather<T: BitwiseCopyable>(_ local: [T], _ type: MPI_Datatype, _ name: String) throws -> [[T]] {
        let n = local.count
        let all = try allgatherJoined(local, type, name)
        return (0..<size).map { Array(all[($0 * n)..<(($0 + 1) * n)]) }
    }

    private func allgatherJoined<T: BitwiseCopyable>(_ local: [T], _ type: MPI_Datatype, _ name: String) throws -> [T] {
        let n = local.count
        return try [T](unsafeUninitializedCapacity: n * size) { dst, initialized in
            try local.withUnsafeBufferPointer { src in
                try check(MPI_Allgather(src.baseAddress, Int32(n), type, dst.baseAddress, Int32(n), type, handle),
                          "MPI_Allgather(\(n) \(name) per rank)")
            }
            initialized = n * size
        }
    }

    /// Collective agreement on failure: every rank calls this with its own outcome. If any rank
    /// failed, every rank throws the same `CollectiveFailure` carrying the lowest failing rank's
    /// message, so all ranks exit non-zero together and nobody hangs in a later collective.
    public func agree<T>(_ body: () throws -> T) throws -> T {
        var result: T? = nil
        var message = ""
        do { result = try body() } catch { message = String(describing: error) }
        let failing = try allreduceMin(result == nil ? Int64(rank) : Int64(size))
        guard failing < Int64(size) else { return result! }
        let text = try broadcastString(message, root: Int(failing), capacity: 1024)
        throw CollectiveFailure(failingRank: Int(failing), message: text)
    }
}
