import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Test-only fault injection for checkpoints, read once by the command line from its
/// environment and handed down (`TrainConfig.checkpoint.hooks`); `.none` in every other run.
///
/// - `LION_DIST_TEST_KILL=RANK:step:N` makes rank RANK SIGKILL itself right after optimizer step
///   N; `RANK:save:N` in the middle of writing the checkpoint of step N (its shard written, the
///   header not yet, nothing renamed).
/// - `LION_DIST_TEST_NO_PREALLOCATE=1` skips the space reservation of a save, so that a full
///   disk is met by the writes themselves (their counts and the read-back verification must
///   catch it).
/// - `LION_DIST_TEST_CORRUPT_SAVE=N`: see `corruptIfAsked`.
/// - `LION_DIST_TEST_PAUSE=N`: every rank stops itself with SIGSTOP after step N and its
///   checkpoint (if one was due), so a test acts on a run held at a known point, whatever the
///   machine's speed, and lets it go on with SIGCONT. With `LION_DIST_TEST_PAUSE_UNTIL_SIGNAL=1`
///   a continued rank also waits until SIGTERM or SIGINT reaches it (mpirun continues its ranks
///   before it sends them the SIGTERM it forwards): a test of the stop then never races the
///   run's end.
public struct CheckpointTestHooks: Sendable {
    enum Point: String, Sendable { case step, save }

    var kill: (rank: Int, point: Point, step: Int)? = nil
    var skipPreallocation = false
    var corruptSave: Int? = nil
    var pause: Int? = nil
    var pauseUntilSignal = false

    /// No hooks: a normal run.
    public static let none = CheckpointTestHooks()

    init() {}

    /// The hooks the `LION_DIST_TEST_*` variables of `environment` ask for.
    public init(environment env: [String: String]) {
        if let parts = env["LION_DIST_TEST_KILL"]?.split(separator: ":").map(String.init), parts.count == 3,
           let rank = Int(parts[0]), let point = Point(rawValue: parts[1]), let step = Int(parts[2]) {
            kill = (rank, point, step)
        }
        skipPreallocation = env["LION_DIST_TEST_NO_PREALLOCATE"] == "1"
        corruptSave = env["LION_DIST_TEST_CORRUPT_SAVE"].flatMap { Int($0) }
        pause = env["LION_DIST_TEST_PAUSE"].flatMap { Int($0) }
        pauseUntilSignal = env["LION_DIST_TEST_PAUSE_UNTIL_SIGNAL"] == "1"
    }

    /// Rank 0 flips one bit of the last data byte of the checkpoint of step `corruptSave` after
    /// it is written and closed, before it is read back: storage that lost a write without
    /// saying so, which only the read-back can catch.
    func corruptIfAsked(path: String, step: Int, rank: Int) {
        guard rank == 0, corruptSave == step, let handle = FileHandle(forUpdatingAtPath: path) else { return }
        defer { try? handle.close() }
        guard let end = try? handle.seekToEnd(), end > 0 else { return }
        try? handle.seek(toOffset: end - 1)
        guard let byte = try? handle.read(upToCount: 1)?.first else { return }
        try? handle.seek(toOffset: end - 1)
        try? handle.write(contentsOf: Data([byte ^ 0x01]))
    }

    func killIfAsked(_ point: Point, step: Int, rank: Int) {
        guard let k = kill, k.rank == rank, k.point == point, k.step == step else { return }
        Glibc.kill(getpid(), SIGKILL)
    }

    /// Called by the trainer after each optimizer step.
    public func afterStep(_ step: Int, rank: Int) { killIfAsked(.step, step: step, rank: rank) }

    /// Called by the trainer after each step's checkpoint (if one was due), before the stop check.
    public func afterSave(_ step: Int) {
        guard pause == step else { return }
        guard pauseUntilSignal else {
            Glibc.kill(getpid(), SIGSTOP)
            return
        }
        // SIGTERM and SIGINT blocked from before the stop to the wait, so one that arrives in
        // between stays pending and ends the wait (the run's handlers record it as usual).
        var stops = sigset_t(), previous = sigset_t()
        sigemptyset(&stops)
        sigaddset(&stops, SIGTERM)
        sigaddset(&stops, SIGINT)
        sigprocmask(SIG_BLOCK, &stops, &previous)
        Glibc.kill(getpid(), SIGSTOP)
        var waitMask = previous
        sigdelset(&waitMask, SIGTERM)
        sigdelset(&waitMask, SIGINT)
        sigsuspend(&waitMask)
        sigprocmask(SIG_SETMASK, &previous, nil)
    }
}
