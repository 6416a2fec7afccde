import Collectives
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Test-only fault injection: `LION_DIST_TEST_KILL=RANK:step:N` makes rank RANK SIGKILL itself
/// right after optimizer step N; `RANK:save:N` in the middle of writing the checkpoint of step N
/// (its shard written, the header not yet, nothing renamed). Unset in normal runs.
///
/// `LION_DIST_TEST_NO_PREALLOCATE=1` skips the space reservation of a save, so that a full disk
/// is met by the writes themselves (their counts and the read-back verification must catch it).
/// `LION_DIST_TEST_CORRUPT_SAVE=N`: see `corruptIfAsked`.
/// `LION_DIST_TEST_PAUSE=N`: every rank stops itself with SIGSTOP after step N and its checkpoint
/// (if one was due), so a test acts on a run held at a known point, whatever the machine's
/// speed, and lets it go on with SIGCONT.
enum TestHooks {
    enum Point: String { case step, save }

    static var skipPreallocation: Bool { ProcessEnv.string("LION_DIST_TEST_NO_PREALLOCATE") == "1" }

    /// `LION_DIST_TEST_CORRUPT_SAVE=N`: rank 0 flips one bit of the last data byte of the
    /// checkpoint of step N after it is written and closed, before it is read back: storage
    /// that lost a write without saying so, which only the read-back can catch.
    static func corruptIfAsked(path: String, step: Int, rank: Int) {
        guard rank == 0, ProcessEnv.int("LION_DIST_TEST_CORRUPT_SAVE") == step,
              let handle = FileHandle(forUpdatingAtPath: path) else { return }
        defer { try? handle.close() }
        guard let end = try? handle.seekToEnd(), end > 0 else { return }
        try? handle.seek(toOffset: end - 1)
        guard let byte = try? handle.read(upToCount: 1)?.first else { return }
        try? handle.seek(toOffset: end - 1)
        try? handle.write(contentsOf: Data([byte ^ 0x01]))
    }

    static func killIfAsked(_ point: Point, step: Int, rank: Int) {
        guard let spec = ProcessEnv.string("LION_DIST_TEST_KILL") else { return }
        let parts = spec.split(separator: ":").map(String.init)
        guard parts.count == 3, Int(parts[0]) == rank, parts[1] == point.rawValue, Int(parts[2]) == step else { return }
        kill(getpid(), SIGKILL)
    }

    static func pauseIfAsked(step: Int) {
        guard ProcessEnv.int("LION_DIST_TEST_PAUSE") == step else { return }
        kill(getpid(), SIGSTOP)
    }
}

/// Called by the trainer after each optimizer step.
public func checkpointTestHookAfterStep(_ step: Int, rank: Int) {
    TestHooks.killIfAsked(.step, step: step, rank: rank)
}

/// Called by the trainer after each step's checkpoint (if one was due), before the stop check.
public func checkpointTestHookAfterSave(_ step: Int) {
    TestHooks.pauseIfAsked(step: step)
}
