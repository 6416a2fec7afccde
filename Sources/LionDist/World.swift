import Collectives

/// The MPI job this process belongs to: its rank and the number of ranks.
///
/// Start it once, first thing, on every rank; finish it last:
/// ```swift
/// let world = try World.start()      // MPI_Init_thread (MPI_THREAD_FUNNELED)
/// defer { world.finish() }           // MPI_Finalize
/// print("rank \(world.rank) of \(world.size)")
/// ```
/// Run alone (without `mpirun`) a program is one rank of a world of size 1. Only the thread
/// that started the world may call the library's collective methods.
public final class World {
    /// This process's rank, 0..<size.
    public let rank: Int
    /// The number of ranks.
    public let size: Int
    /// MPI_COMM_WORLD, with errors returned instead of aborting.
    let comm: Communicator
    /// The node split and the hosts, made once per process for every optimizer and trainer.
    let topology: Topology

    nonisolated(unsafe) private static var current: World?

    private init(comm: Communicator) throws {
        self.comm = comm
        topology = try Topology(world: comm)
        rank = comm.rank
        size = comm.size
    }

    /// Starts MPI (once per process; later calls return the same world) and finds each rank's
    /// node. Collective: every rank calls it.
    public static func start() throws -> World {
        if let current { return current }
        return try LionDistError.wrap {
            try MPIRuntime.initialize()
            let world = try World(comm: try Communicator.world())
            current = world
            return world
        }
    }

    /// Whether this is rank 0, the one that prints.
    public var isRoot: Bool { rank == 0 }

    /// Each value summed over all ranks (one MPI_Allreduce in Double). Collective.
    public func sum(_ values: [Double]) throws -> [Double] {
        var out = values
        try LionDistError.wrap { try comm.allreduceSum(&out) }
        return out
    }

    /// Waits until every rank gets here. Collective.
    public func barrier() throws {
        try LionDistError.wrap { try comm.barrier() }
    }

    /// Runs `body` on every rank; if it throws on any rank, every rank throws the same error
    /// (the lowest failing rank's message), so no rank waits forever in a later collective.
    public func agree<T>(_ body: () throws -> T) throws -> T {
        try LionDistError.wrap { try comm.agree(body) }
    }

    /// Ends the job from this rank: writes `error` as one line naming the rank and its host,
    /// then MPI_Abort, so every rank stops within seconds. For an error on one rank only in a
    /// loop of your own: its peers wait in the next collective and cannot learn of it, and
    /// unwinding would leave this rank in a collective teardown (MPI_Win_free of a shared
    /// window, MPI_Finalize) forever. `Trainer.run()` does this for a `Workload` that throws.
    public func abort(_ error: Error) -> Never {
        comm.abort(error)
    }

    /// Stops MPI (MPI_Finalize). Call it last, on every rank; collective methods fail after it.
    public func finish() {
        MPIRuntime.finalize()
    }
}
