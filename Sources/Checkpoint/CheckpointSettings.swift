
/// `--checkpoint DIR`, `--checkpoint-every STEPS`, `--keep K`, `--resume`, `--resume-from FILE`.
public struct CheckpointSettings: Sendable {
    /// Where checkpoints are written (and `--resume` looks); nil: no checkpoints.
    public var directory: String? = nil
    /// Save after every this many optimizer steps (and always at the end); nil: only at the end.
    public var every: Int? = nil
    /// Keep the newest this many checkpoints.
    public var keep: Int = 2
    /// Continue from the newest checkpoint in `directory`.
    public var resume = false
    /// Continue from this checkpoint file.
    public var resumeFrom: String? = nil
    /// Test hooks (`LION_DIST_TEST_*`, read by the command line); none by default.
    public var hooks: CheckpointTestHooks = .none

    public init() {}
}
