#if canImport(Glibc)
import Glibc
#endif

/// Test hook: with `LION_DIST_SIGNVOTE_DUMP=DIR`, each rank writes the local gradient it votes
/// with at each step to DIR/g-STEP-RANK.f32, and rank 0 the parameters before the first step
/// to DIR/p-0.f32 (little-endian float32, the real elements only), so that a test can replay
/// the run as one process simulating W voters. The command line reads the variable once and
/// hands the directory down (`StepSettings.voteDumpDirectory`); without it a step costs a nil check.
public struct SignVoteDump: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    func dump(step: Int, rank: Int, params: UnsafePointer<Float>, grads: UnsafePointer<Float>, count: Int) {
        if step == 0 && rank == 0 { write(params, count: count, to: "\(directory)/p-0.f32") }
        write(grads, count: count, to: "\(directory)/g-\(step)-\(rank).f32")
    }

    private func write(_ floats: UnsafePointer<Float>, count: Int, to path: String) {
        guard let f = fopen(path, "wb") else { fatalError("LION_DIST_SIGNVOTE_DUMP: cannot write \(path)") }
        precondition(fwrite(floats, 4, count, f) == count, "LION_DIST_SIGNVOTE_DUMP: short write to \(path)")
        fclose(f)
    }
}
