import CMPI

/// Starts and stops MPI. Only the main thread calls MPI (MPI_THREAD_FUNNELED).
public enum MPIRuntime {
    nonisolated(unsafe) static var isActive = false

    /// MPI_Init_thread; a second call in the same process (a test process that starts MPI
    /// from more than one place) does nothing.
    public static func initialize() throws {
        var initialized: Int32 = 0
        try check(MPI_Initialized(&initialized), "MPI_Initialized")
        guard initialized == 0 else { return }
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
