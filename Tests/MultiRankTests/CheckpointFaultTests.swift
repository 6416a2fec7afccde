import Foundation
import XCTest

/// Checkpoints through the real binary under faults: a disk that fills up (a real 3 MiB tmpfs),
/// two runs on one directory, a run whose lock holder was killed with SIGKILL, and SIGTERM to
/// mpirun. Each must keep the last good checkpoint and resume to the uninterrupted run bitwise.
final class CheckpointFaultTests: FaultTestCase {
    /// 468 steps (two epochs of batch 256). What happens while it runs needs no length of its
    /// own: the run holds itself at step 50 (`startHeldAtStep50`) or a rank kills itself at a
    /// step (`LION_DIST_TEST_KILL`), so the small 784-37-10 serves (~2 s on a quiet 2-core machine).
    static let long = ["--hidden", "37", "--batch-size", "256", "--epochs", "2", "--max-steps", "468", "--threads", "1",
                       "--seed", "7", "--log-interval", "1000"]
    /// The uninterrupted W = 2 run of `long`: its final params_digest.
    static var referenceDigest: String? = nil

    func inspect(_ path: String) throws -> [String: Any] {
        let r = try Launcher.run(ranks: nil, ["inspect", "--json", path])
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").last, "inspect printed nothing: \(r.stderr)")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// The directory's files but its lock.
    func files(_ dir: URL) -> [String] {
        ((try? Self.fm.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0 != ".lion-dist.lock" }.sorted()
    }

    func referenceDigest() throws -> String {
        if let d = Self.referenceDigest { return d }
        let dir = try temporaryDirectory()
        let r = try Launcher.run(ranks: 2, Self.long + ["--checkpoint", dir.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let digest = try XCTUnwrap(try inspect(dir.path + "/ckpt-00000468.lion")["params_digest"] as? String)
        Self.referenceDigest = digest
        return digest
    }

    // MARK: full disk

    /// 784-256-10 (203,530 parameters): a Lion checkpoint is 1.56 MiB, so a 3 MiB file system
    /// holds one and the second save cannot fit.
    static let wide = ["--hidden", "256", "--batch-size", "256", "--max-steps", "30", "--threads", "1", "--log-interval", "1000"]

    func checkFullDisk(env: [String: String], needle: String) throws {
        let disk = try mountTmpfs("size=3m")
        let ckpt = disk.appendingPathComponent("ckpt")
        let flags = Self.wide + ["--checkpoint-every", "5", "--keep", "2"]
        let r = try Launcher.run(ranks: 2, flags + ["--checkpoint", ckpt.path], env: env)
        XCTAssertNotEqual(r.status, 0, "a save that cannot complete must stop the run")
        let lines = errorLines(r)
        XCTAssertEqual(lines.count, 1, r.stderr)
        let line = lines.first ?? ""
        XCTAssertTrue(line.contains("checkpoint of step 10 not saved"), line)
        XCTAssertTrue(line.contains(needle), line)
        XCTAssertTrue(line.contains("\(ckpt.path)/ckpt-00000005.lion is intact"), line)
        XCTAssertFalse(r.stdout.contains("ckpt-00000010.lion"), "no save of step 10 may be reported: \(r.stdout)")
        // Nothing else left behind: the good checkpoint, and no temporary file using the space.
        XCTAssertEqual(files(ckpt), ["ckpt-00000005.lion"])
        let kept = try inspect(ckpt.path + "/ckpt-00000005.lion")
        XCTAssertEqual(kept["valid"] as? Bool, true, "\(kept)")

        // It resumes (elsewhere: this disk still holds one checkpoint only) to the uninterrupted run, bitwise.
        let other = try temporaryDirectory()
        let whole = try Launcher.run(ranks: 2, Self.wide + ["--checkpoint", other.path + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let resumed = try Launcher.run(ranks: 2, Self.wide + ["--resume-from", ckpt.path + "/ckpt-00000005.lion",
                                                             "--checkpoint", other.path + "/resumed"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("step 5"), resumed.stdout)
        let a = try inspect(other.path + "/whole/ckpt-00000030.lion"), b = try inspect(other.path + "/resumed/ckpt-00000030.lion")
        XCTAssertNotNil(a["params_digest"] as? String)
        XCTAssertEqual(a["params_digest"] as? String, b["params_digest"] as? String)
        XCTAssertEqual(a["state_digest"] as? String, b["state_digest"] as? String)
    }

    /// The space is reserved before anything is written: the save fails naming what it needs.
    func testFullDiskStopsWithOneLineAndKeepsTheLastGoodCheckpoint() throws {
        try checkFullDisk(env: [:], needle: "no space left on the file system of --checkpoint")
    }

    /// Without the reservation the writes meet the full disk: their counts are checked.
    func testFullDiskMidWriteIsCaughtByTheWriteCount() throws {
        try checkFullDisk(env: ["LION_DIST_TEST_NO_PREALLOCATE": "1"], needle: "the file system refused the rest")
    }

    /// Storage that loses a write without an error: the read-back before the rename catches it.
    func testASaveThatReadsBackWrongIsNeverRenamedOrPruned() throws {
        let dir = try temporaryDirectory()
        let flags = Self.wide + ["--checkpoint", dir.path, "--checkpoint-every", "5", "--keep", "1"]
        let r = try Launcher.run(ranks: 2, flags, env: ["LION_DIST_TEST_CORRUPT_SAVE": "10"])
        XCTAssertNotEqual(r.status, 0)
        let lines = errorLines(r)
        XCTAssertEqual(lines.count, 1, r.stderr)
        let line = lines.first ?? ""
        XCTAssertTrue(line.contains("checkpoint of step 10 not saved"), line)
        XCTAssertTrue(line.contains("read-back of \(dir.path)/.ckpt-00000010.lion.tmp failed: checksum mismatch in block 24 of 25"), line)
        XCTAssertTrue(line.contains("\(dir.path)/ckpt-00000005.lion is intact"), line)
        XCTAssertEqual(files(dir), ["ckpt-00000005.lion"], "--keep 1 must not prune the last good one for an unverified save")
        XCTAssertEqual(try inspect(dir.path + "/ckpt-00000005.lion")["valid"] as? Bool, true)
    }

    // MARK: two runs on one directory, and a killed lock holder

    /// Starts `lion-dist` under mpirun in the background; output goes to files in `dir`.
    func start(ranks: Int, _ arguments: [String], in dir: URL, env extra: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // mpirun SIGKILLs its ranks `odls_base_sigkill_timeout` after it sends them the SIGTERM
        // it got (1 s by default): the ranks must finish a step, agree, save and exit in it, a
        // race with the machine's load. 3 s takes the race out of the test (mpirun also waits
        // longer before it sends the SIGTERM).
        p.arguments = ["mpirun", "-n", "\(ranks)", "--oversubscribe", "--mca", "odls_base_sigkill_timeout", "3",
                       try Launcher.binary()] + arguments
        var env = Launcher.initialEnvironment   // without what an in-process MPI singleton added
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env.merge(extra) { $1 }
        p.environment = env
        for name in ["stdout", "stderr"] { _ = Self.fm.createFile(atPath: dir.appendingPathComponent(name).path, contents: nil) }
        p.standardOutput = try FileHandle(forWritingTo: dir.appendingPathComponent("stdout"))
        p.standardError = try FileHandle(forWritingTo: dir.appendingPathComponent("stderr"))
        try p.run()
        cleanup.append { if p.isRunning { p.terminate() } }
        return p
    }

    /// Starts `long` held at step 50: every rank stops itself with SIGSTOP once the checkpoint of
    /// step 50 is written (`LION_DIST_TEST_PAUSE`), so what the test does next happens while the
    /// run is alive, whatever the speed of the machine. Returns mpirun and the stopped ranks.
    func startHeldAtStep50(ranks: Int, _ flags: [String], in dir: URL, untilSignal: Bool = false) throws -> (Process, [pid_t]) {
        let p = try start(ranks: ranks, flags, in: dir,
                          env: ["LION_DIST_TEST_PAUSE": "50"].merging(untilSignal ? ["LION_DIST_TEST_PAUSE_UNTIL_SIGNAL": "1"] : [:]) { $1 })
        let deadline = Date().addingTimeInterval(300)
        while true {
            let pids = RankProcesses.of(p.processIdentifier)
            if pids.count == ranks && pids.allSatisfy({ RankProcesses.state($0) == "T" }) {
                cleanup.append { for pid in pids { kill(pid, SIGCONT) } }   // never leave a stopped job behind
                return (p, pids)
            }
            guard p.isRunning, Date() < deadline else {
                let err = (try? String(contentsOf: dir.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
                throw TestFailure("the run did not stop itself at step 50 (running: \(p.isRunning), ranks seen: \(pids.count)): \(err)")
            }
            usleep(10_000)
        }
    }

    func testSecondRunOnALockedDirectoryIsRefusedAndAKilledHoldersDirectoryResumes() throws {
        let ref = try referenceDigest()
        let dir = try temporaryDirectory()
        let ckpt = dir.appendingPathComponent("ckpt")
        let flags = Self.long + ["--checkpoint", ckpt.path, "--checkpoint-every", "50", "--keep", "10"]
        let (first, held) = try startHeldAtStep50(ranks: 2, flags, in: dir)
        XCTAssertTrue(Self.fm.fileExists(atPath: ckpt.path + "/ckpt-00000050.lion"))

        // The holder is stopped, not gone: its lock must still refuse a second run.
        let second = try Launcher.run(ranks: 2, flags)
        XCTAssertTrue(first.isRunning, "the second run must be refused while the first still runs (else this test proves nothing)")
        XCTAssertTrue(held.allSatisfy { RankProcesses.state($0) == "T" }, "the first run must still be held at step 50")
        XCTAssertNotEqual(second.status, 0)
        let lines = errorLines(second)
        XCTAssertEqual(lines.count, 1, second.stderr)
        XCTAssertTrue(lines.first?.contains("--checkpoint \(ckpt.path) is in use by another run (pid ") ?? false, "\(lines)")
        XCTAssertFalse(second.stdout.contains("step 1/"), "refused before step 1: \(second.stdout)")

        for pid in held { kill(pid, SIGCONT) }
        first.waitUntilExit()
        let firstErr = (try? String(contentsOf: dir.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
        XCTAssertEqual(first.terminationStatus, 0, firstErr)
        XCTAssertEqual(files(ckpt).last, "ckpt-00000468.lion")
        for name in files(ckpt) { XCTAssertEqual(try inspect(ckpt.path + "/" + name)["valid"] as? Bool, true, name) }
        XCTAssertEqual(try inspect(ckpt.path + "/ckpt-00000468.lion")["params_digest"] as? String, ref, "the first run must be untouched")

        // Rank 0 holds the lock; SIGKILL it: the directory is not left locked.
        let killedDir = dir.appendingPathComponent("killed")
        let killedFlags = Self.long + ["--checkpoint", killedDir.path, "--checkpoint-every", "50"]
        let killed = try Launcher.run(ranks: 2, killedFlags, env: ["LION_DIST_TEST_KILL": "0:step:120"])
        XCTAssertNotEqual(killed.status, 0)
        XCTAssertTrue(Self.fm.fileExists(atPath: killedDir.path + "/.lion-dist.lock"))
        let resumed = try Launcher.run(ranks: 2, killedFlags + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resumed from \(killedDir.path)/ckpt-00000100.lion"), resumed.stdout)
        XCTAssertEqual(try inspect(killedDir.path + "/ckpt-00000468.lion")["params_digest"] as? String, ref)
    }

    // MARK: signals

    func testSIGTERMToMpirunSavesTheCurrentStepAndResumesExactly() throws {
        let ref = try referenceDigest()
        let dir = try temporaryDirectory()
        let ckpt = dir.appendingPathComponent("ckpt")
        let flags = Self.long + ["--checkpoint", ckpt.path, "--checkpoint-every", "50", "--keep", "10"]
        // Held at step 50 (its checkpoint written), SIGTERM goes to mpirun, which continues the
        // ranks and forwards it; continued, each rank also waits for the signal itself
        // (LION_DIST_TEST_PAUSE_UNTIL_SIGNAL), so the stop lands at step 51, whatever the speed
        // of the 418 steps left.
        let (run, _) = try startHeldAtStep50(ranks: 2, flags, in: dir, untilSignal: true)
        kill(run.processIdentifier, SIGTERM)
        run.waitUntilExit()
        XCTAssertNotEqual(run.terminationStatus, 0, "a run stopped by a signal must not report success")
        let stderr = (try? String(contentsOf: dir.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
        let lines = errorLines(stderr)
        let stdout = (try? String(contentsOf: dir.appendingPathComponent("stdout"), encoding: .utf8)) ?? ""
        XCTAssertEqual(lines.count, 1, "stderr: \(stderr)\nstdout: \(stdout)")
        let line = lines.first ?? ""
        // "error: stopped by SIGTERM after step N of 468; checkpoint DIR/ckpt-N.lion written; ..."
        let step = try XCTUnwrap(line.components(separatedBy: "after step ").dropFirst().first?.split(separator: " ").first.flatMap { Int($0) },
                                 "no step in: \(line)")
        XCTAssertTrue(line.contains("stopped by SIGTERM"), line)
        XCTAssertEqual(step, 51, "the stop rides on the first step after the signal")
        let saved = ckpt.path + String(format: "/ckpt-%08d.lion", step)
        XCTAssertTrue(line.contains("checkpoint \(saved) written"), line)
        XCTAssertEqual(files(ckpt).last, String(format: "ckpt-%08d.lion", step), "the newest checkpoint is the step it stopped at")
        XCTAssertEqual(try inspect(saved)["valid"] as? Bool, true)

        let resumed = try Launcher.run(ranks: 2, flags + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resumed from \(saved)"), resumed.stdout)
        XCTAssertEqual(try inspect(ckpt.path + "/ckpt-00000468.lion")["params_digest"] as? String, ref)
    }
}
