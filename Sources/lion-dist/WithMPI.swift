import Collectives
import Training
#if canImport(Glibc)
import Glibc
#endif

/// Starts MPI, runs `body` on the world communicator, and finalizes. An error every rank
/// agreed on (`CollectiveFailure`) is printed once by rank 0 and every rank exits 1 after
/// MPI_Finalize; any other error is printed by the rank that hit it and aborts the whole job,
/// so no rank is left waiting in a collective.
func withMPI(_ body: (Communicator) throws -> Void) throws {
    try MPIRuntime.initialize()
    let comm = try Communicator.world()
    do {
        try body(comm)
    } catch let failure as CollectiveFailure {
        if comm.rank == 0 { StandardError.write("error: \(failure.message)") }
        MPIRuntime.finalize()
        exit(1)
    } catch {
        comm.abort(error)
    }
    MPIRuntime.finalize()
}
