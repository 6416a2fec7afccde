import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// A typed face of an MPI communicator. Only the main thread calls MPI (MPI_THREAD_FUNNELED).
/// Raw pointers stop here and in the kernels: the layers above pass arrays and buffer pointers
/// with their counts (`allgather`, `MPIFile`); only the combiners' window code passes pointers
/// into its flat buffers (`allreduceSum`, `allgatherInPlace`, `reduceScatterBlock`).
public final class Communicator {
    public let handle: MPI_Comm
    public let rank: Int
    public let size: Int
    private let owned: Bool

    init(handle: MPI_Comm, owned: Bool) throws {
        self.handle = handle
        self.owned = owned
        var r: Int32 = 0, s: Int32 = 0
        try check(MPI_Comm_rank(handle, &r), "MPI_Comm_rank")
        try check(MPI_Comm_size(handle, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
    }

    deinit {
        if owned && MPIRuntime.isActive {
            var h: MPI_Comm? = handle
            MPI_Comm_free(&h)
        }
    }

    /// MPI_COMM_WORLD, with errors returned instead of aborting.
    public static func world() throws -> Communicator {
        let w = CMPI_COMM_WORLD()!
        try check(MPI_Comm_set_errhandler(w, CMPI_ERRORS_RETURN()), "MPI_Comm_set_errhandler")
        return try Communicator(handle: w, owned: false)
    }

    /// The ranks that share this rank's node (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)).
    /// `key` overrides the split: ranks with the same key form a "node", which lets one machine
    /// test the multi-node paths (the command line's `LION_DIST_NODE_KEY`).
    public func splitByNode(key: Int? = nil) throws -> Communicator {
        var out: MPI_Comm? = nil
        if let key {
            try check(MPI_Comm_split(handle, Int32(key), Int32(rank), &out), "MPI_Comm_split")
        } else {
            try check(MPI_Comm_split_type(handle, CMPI_COMM_TYPE_SHARED(), Int32(rank), CMPI_INFO_NULL(), &out),
                      "MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)")
        }
        return try Communicator(handle: out!, owned: true)
    }

    /// MPI_Comm_split: ranks with the same color form a communicator, ordered by key.
    public func split(color: Int, key: Int) throws -> Communicator {
        var out: MPI_Comm? = nil
        try check(MPI_Comm_split(handle, Int32(color), Int32(key), &out), "MPI_Comm_split")
        return try Communicator(handle: out!, owned: true)
    }

    /// The ranks passing `member: true` form a new communicator ordered by `key`; the others
    /// get nil (MPI_Comm_split with MPI_UNDEFINED). Collective.
    public func subset(member: Bool, key: Int) throws -> Communicator? {
        var out: MPI_Comm? = nil
        try check(MPI_Comm_split(handle, member ? 0 : CMPI_UNDEFINED(), Int32(key), &out), "MPI_Comm_split")
        guard member, let out else { return nil }
        return try Communicator(handle: out, owned: true)
    }

    /// This process's host name as MPI reports it.
    public static func processorName() -> String {
        var buffer = [CChar](repeating: 0, count: Int(CMPI_MAX_PROCESSOR_NAME()) + 1)
        var length: Int32 = 0
        MPI_Get_processor_name(&buffer, &length)
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func barrier() throws {
        try check(MPI_Barrier(handle), "MPI_Barrier")
    }

    /// Kills every rank of the job: for failures that cannot be agreed on collectively.
    public func abort(code: Int32) -> Never {
        MPI_Abort(handle, code)
        exit(code)
    }

    /// Writes `error` as one line naming this rank and its host to stderr, then kills every
    /// rank of the job (MPI_Abort; mpirun ends the others within a second or two): for an error
    /// on one rank that its peers, waiting in a collective, cannot learn of.
    public func abort(_ error: Error, code: Int32 = 1) -> Never {
        let text = "error (rank \(rank) of \(size) on \(Communicator.processorName())): \(error); ending every rank (MPI_Abort)\n"
        fputs(text, stderr)
        abort(code: code)
    }
}
