import CMPI

/// Collectives over 64-bit words (packed bit planes), for sign-vote Lion. Counts are words
/// per rank; MPI moves them as bytes.
extension Communicator {
    /// MPI_Alltoall: block q of `send` (`blockWords` words at q * blockWords) goes to rank q;
    /// block q of `receive` arrives from rank q.
    public func alltoall(_ send: UnsafePointer<UInt64>, into receive: UnsafeMutablePointer<UInt64>, blockWords: Int) throws {
        let bytes = Int32(blockWords * 8)
        try check(MPI_Alltoall(send, bytes, CMPI_BYTE(), receive, bytes, CMPI_BYTE(), handle),
                  "MPI_Alltoall(\(blockWords) words per rank)")
    }

    /// MPI_Allgather: every rank's `blockWords` words, in rank order, into `receive`.
    public func allgather(_ block: UnsafePointer<UInt64>, into receive: UnsafeMutablePointer<UInt64>, blockWords: Int) throws {
        let bytes = Int32(blockWords * 8)
        try check(MPI_Allgather(block, bytes, CMPI_BYTE(), receive, bytes, CMPI_BYTE(), handle),
                  "MPI_Allgather(\(blockWords) words per rank)")
    }
}
