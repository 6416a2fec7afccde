import CMPI

/// Starts and stops MPI. Only the main thread calls MPI (MPI_THREAD_FUNNELED).
public enum MPIRuntime {
    nonisolated(unsafe) static var isActive = false

    public static func initialize() throws {
        var provided: Int32 = 0
        try check(MPI_Init_thread(nil, nil, CMPI_THREAD_FUNNELED(), &provided), "MPI_Init_thread")
        isActive = true
        if provided < CMPI_THREAD_FUNNELED() {
            throw MPIShortfall(call: "MPI_Init_thread", problem: "provided thread level \(provided), below MPI_THREAD_FUNNELED")
        }
    }

    public static func finalize() {
        guard isActive else { return }
        isActive = false
        MPI_Finalize()
    }

    /// MPI_Wtime: seconds on a monotonic clock.
    public static func time() -> Double { MPI_Wtime() }
}
