import Foundation
import XCTest

/// Checkpoints through the real binary: a rank killed with SIGKILL mid-run, resumed at W = 2
/// (bitwise the uninterrupted run), W = 4 and W = 1 (within a tight tolerance); corrupt and
/// mismatched checkpoints refused with one line naming the next older valid one.
/// MLP 784-37-10, global batch 256: 234 steps per epoch, so 300 steps cross into epoch 2.
final class CheckpointResumeTests: XCTestCase {
    static let common = ["--hidden", "37", "--batch-size", "256", "--epochs", "2", "--max-steps", "300", "--threads", "1",
                         "--seed", "7", "--log-interval", "1000"]
    static let fm = FileManager.default

    /// The uninterrupted W = 2 run, computed once: its final parameters and final checkpoint.
    static var reference: (params: [Float], inspect: [String: Any], dir: URL)? = nil

    func reference() throws -> (params: [Float], inspect: [String: Any], dir: URL) {
        if let r = Self.reference { return r }
        let dir = try Launcher.temporaryDirectory()
        let r = try Launcher.run(ranks: 2, Self.common + ["--checkpoint", dir.path, "--save-params", dir.path + "/final.f32"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("checkpoint \(dir.path)/ckpt-00000300.lion: "), r.stdout)
        XCTAssertTrue(r.stdout.contains("MB/s"), r.stdout)
        let result = (try Launcher.readFloats(dir.appendingPathComponent("final.f32")),
                      try inspect(dir.path + "/ckpt-00000300.lion"), dir)
        Self.reference = result
        return result
    }

    override class func tearDown() {
        if let dir = reference?.dir { try? fm.removeItem(at: dir) }
    }

    func inspect(_ path: String) throws -> [String: Any] {
        let r = try Launcher.run(ranks: nil, ["inspect", "--json", path])
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").last, "inspect printed nothing: \(r.stderr)")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(r.status == 0, json["valid"] as? Bool, "exit status must follow validity: \(r.stdout)")
        return json
    }

    /// The directory's files but its lock (`.lion-dist.lock`, which stays after a run).
    func files(_ dir: URL) -> [String] {
        ((try? Self.fm.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0 != ".lion-dist.lock" }.sorted()
    }

    func errorLines(_ r: Launcher.Result) -> [String] {
        r.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("error") }
    }

    func assertClose(_ p: [Float], _ q: [Float], _ what: String) {
        XCTAssertEqual(p.count, q.count)
        var maxDiff: Float = 0, sum = 0.0
        for (a, b) in zip(p, q) {
            maxDiff = max(maxDiff, abs(a - b))
            sum += Double(abs(a - b))
        }
        // As RankInvarianceTests: summation order differs with W; Lion's sign may flip where c ~ 0.
        XCTAssertLessThan(maxDiff, 5e-3, "\(what): max |diff| \(maxDiff)")
        XCTAssertLessThan(sum / Double(p.count), 2e-6, "\(what): mean |diff| \(sum / Double(p.count))")
    }

    func testKilledRankResumesToTheUninterruptedRun() throws {
        let ref = try reference()
        XCTAssertEqual(ref.inspect["valid"] as? Bool, true)
        XCTAssertEqual(ref.inspect["step"] as? Int, 300)
        XCTAssertEqual(ref.inspect["world_size"] as? Int, 2)
        XCTAssertEqual(ref.inspect["params"] as? Int, 29_425)
        XCTAssertEqual(ref.inspect["optimizer"] as? String, "lion")
        XCTAssertEqual(ref.inspect["state_dtype"] as? String, "fp32")

        let dir = try Launcher.temporaryDirectory()
        defer { try? Self.fm.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("ckpt")
        let killAt = Int.random(in: 51..<300)
        print("killing rank 1 with SIGKILL after step \(killAt)")
        let flags = Self.common + ["--checkpoint", ckpt.path, "--checkpoint-every", "50", "--keep", "3"]
        let killed = try Launcher.run(ranks: 2, flags, env: ["LION_DIST_TEST_KILL": "1:step:\(killAt)"])
        XCTAssertNotEqual(killed.status, 0, "mpirun must fail when a rank is killed")

        // Only complete, valid checkpoints; the newest is the last multiple of 50 before the kill.
        let newest = (killAt - 1) / 50 * 50
        // A kill right after a save step can leave that save's temporary file (rank 0 creates it
        // before the others write): it keeps its temporary name and is never taken for a checkpoint.
        let temporaries = files(ckpt).filter { $0.hasPrefix(".") && $0.hasSuffix(".lion.tmp") }
        XCTAssertTrue(temporaries.allSatisfy { $0 == String(format: ".ckpt-%08d.lion.tmp", killAt) }, "\(temporaries)")
        let names = files(ckpt).filter { !temporaries.contains($0) }
        XCTAssertEqual(names.last, String(format: "ckpt-%08d.lion", newest), "kill after step \(killAt): \(names)")
        XCTAssertLessThanOrEqual(names.count, 3)
        for name in names {
            XCTAssertTrue(name.hasPrefix("ckpt-") && name.hasSuffix(".lion"), "unexpected file \(name)")
            XCTAssertEqual(try inspect(ckpt.path + "/" + name)["valid"] as? Bool, true, name)
        }
        let saved = dir.appendingPathComponent("resume-point.lion")
        try Self.fm.copyItem(atPath: ckpt.path + "/" + names.last!, toPath: saved.path)

        // Same W: bitwise the uninterrupted run.
        let resumed = try Launcher.run(ranks: 2, flags + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resumed from \(ckpt.path)/ckpt-\(String(format: "%08d", newest)).lion (written by 2 rank(s)): step \(newest)"),
                      resumed.stdout)
        let final = try inspect(ckpt.path + "/ckpt-00000300.lion")
        XCTAssertEqual(final["params_digest"] as? String, ref.inspect["params_digest"] as? String)
        XCTAssertEqual(final["state_digest"] as? String, ref.inspect["state_digest"] as? String)

        // Another W reads the same file directly.
        for ranks in [4, 1] {
            let out = dir.appendingPathComponent("w\(ranks).f32")
            let r = try Launcher.run(ranks: ranks, Self.common + ["--resume-from", saved.path, "--save-params", out.path])
            XCTAssertEqual(r.status, 0, "W=\(ranks): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("step \(newest)"), r.stdout)
            assertClose(try Launcher.readFloats(out), ref.params, "resumed at W=\(ranks) from step \(newest)")
        }
    }

    /// `--stop-after` ends a run early without shortening its schedule (`--max-steps` would):
    /// the checkpoint it leaves resumes to the uninterrupted run, bit for bit.
    func testStopAfterResumesToTheUninterruptedRun() throws {
        let ref = try reference()
        let dir = try Launcher.temporaryDirectory()
        defer { try? Self.fm.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("ckpt")
        let first = try Launcher.run(ranks: 2, Self.common + ["--checkpoint", ckpt.path, "--stop-after", "120"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(files(ckpt), ["ckpt-00000120.lion"], "the run stops at step 120 and saves there")
        XCTAssertEqual(try inspect(ckpt.path + "/ckpt-00000120.lion")["step"] as? Int, 120)
        let out = dir.appendingPathComponent("final.f32")
        let resumed = try Launcher.run(ranks: 2, Self.common + ["--checkpoint", ckpt.path, "--resume", "--save-params", out.path])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("step 120"), resumed.stdout)
        XCTAssertEqual(try Launcher.readFloats(out), ref.params, "stopped at 120 and resumed: the uninterrupted run's parameters")
    }

    func testKillDuringASaveKeepsTheLastGoodCheckpoint() throws {
        let ref = try reference()
        let dir = try Launcher.temporaryDirectory()
        defer { try? Self.fm.removeItem(at: dir) }
        let flags = Self.common + ["--checkpoint", dir.path, "--checkpoint-every", "100"]
        let killed = try Launcher.run(ranks: 2, flags, env: ["LION_DIST_TEST_KILL": "1:save:200"])
        XCTAssertNotEqual(killed.status, 0)
        XCTAssertEqual(files(dir), [".ckpt-00000200.lion.tmp", "ckpt-00000100.lion"], "the half-written file keeps its temporary name")
        XCTAssertEqual(try inspect(dir.path + "/ckpt-00000100.lion")["valid"] as? Bool, true)

        let resumed = try Launcher.run(ranks: 2, flags + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(files(dir), ["ckpt-00000200.lion", "ckpt-00000300.lion"], "keep 2; the stale temporary file is gone")
        XCTAssertEqual(try inspect(dir.path + "/ckpt-00000300.lion")["params_digest"] as? String,
                       ref.inspect["params_digest"] as? String)
    }

    /// AdamW's bias correction needs the applied-step count; bf16 state goes through fp32 exactly.
    func testAdamWWithBF16StateResumesExactly() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? Self.fm.removeItem(at: dir) }
        let base = ["--hidden", "37", "--batch-size", "64", "--max-steps", "40", "--threads", "1", "--optimizer", "adamw",
                    "--state-dtype", "bf16", "--log-interval", "1000"]
        let whole = try Launcher.run(ranks: 2, base + ["--checkpoint", dir.path + "/whole"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let flags = base + ["--checkpoint", dir.path + "/parts", "--checkpoint-every", "15"]
        let killed = try Launcher.run(ranks: 2, flags, env: ["LION_DIST_TEST_KILL": "0:step:25"])
        XCTAssertNotEqual(killed.status, 0)
        XCTAssertEqual(files(dir.appendingPathComponent("parts")), ["ckpt-00000015.lion"])
        let resumed = try Launcher.run(ranks: 2, flags + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let a = try inspect(dir.path + "/whole/ckpt-00000040.lion"), b = try inspect(dir.path + "/parts/ckpt-00000040.lion")
        XCTAssertEqual(a["optimizer"] as? String, "adamw")
        XCTAssertEqual(a["state_dtype"] as? String, "bf16")
        XCTAssertEqual(a["params_digest"] as? String, b["params_digest"] as? String)
        XCTAssertEqual(a["state_digest"] as? String, b["state_digest"] as? String)
    }

    func testCorruptOrMismatchedCheckpointsAreRefused() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? Self.fm.removeItem(at: dir) }
        let base = ["--hidden", "37", "--batch-size", "64", "--max-steps", "60", "--threads", "1", "--log-interval", "1000"]
        let flags = base + ["--checkpoint", dir.path, "--checkpoint-every", "20", "--keep", "5"]
        let first = try Launcher.run(ranks: 2, flags)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertEqual(files(dir), ["ckpt-00000020.lion", "ckpt-00000040.lion", "ckpt-00000060.lion"])
        let newest = dir.appendingPathComponent("ckpt-00000060.lion"), older = dir.appendingPathComponent("ckpt-00000040.lion")
        let pristine = try Data(contentsOf: newest), olderBytes = try Data(contentsOf: older)

        // Every kind through `inspect` (one process; CheckpointTests reads them in process); a
        // header and a data block through a resume at W = 2.
        let cases: [(String, (inout Data) -> Void, String, resume: Bool)] = [
            ("truncated", { $0 = $0.prefix($0.count - 1000) }, "truncated", false),
            ("magic", { $0[0] = UInt8(ascii: "X") }, "wrong magic", true),
            ("version", { $0[8] = 9 }, "format version 9", false),
            ("checksum", { $0[4096 + 70_000] ^= 0x10 }, "checksum mismatch in block 1 ", true),
        ]
        for (name, corrupt, needle, resume) in cases {
            var bytes = pristine
            corrupt(&bytes)
            try bytes.write(to: newest)
            let inspected = try inspect(newest.path)
            XCTAssertEqual(inspected["valid"] as? Bool, false, name)
            XCTAssertTrue((inspected["error"] as? String ?? "").contains(needle), "\(name): \(inspected)")
            guard resume else { continue }
            let r = try Launcher.run(ranks: 2, flags + ["--resume"])
            XCTAssertNotEqual(r.status, 0, name)
            let lines = errorLines(r)
            XCTAssertEqual(lines.count, 1, "\(name): \(r.stderr)")
            let line = lines.first ?? ""
            XCTAssertTrue(line.contains(needle), "\(name): \(line)")
            XCTAssertTrue(line.contains("next older valid checkpoint is \(older.path)"), "\(name): \(line)")
            XCTAssertEqual(try Data(contentsOf: newest), bytes, "\(name): the refused file must not be overwritten")
            XCTAssertEqual(try Data(contentsOf: older), olderBytes)
        }

        // The previous checkpoint still loads (the corrupt newest stays where it is).
        let fallback = try Launcher.run(ranks: 2, base + ["--resume-from", older.path])
        XCTAssertEqual(fallback.status, 0, fallback.stderr)
        XCTAssertTrue(fallback.stdout.contains("resumed from \(older.path) (written by 2 rank(s)): step 40"), fallback.stdout)

        try pristine.write(to: newest)
        let mismatches: [([String], String)] = [
            (["--hidden", "38"], "was written for MLP 784-37-10, this run is MLP 784-38-10; pass the same --hidden"),
            (["--optimizer", "adamw"], "was written with --optimizer lion, this run has adamw"),
            (["--max-steps", "80"], "cosine schedule of 60 steps, this run has 80"),
        ]
        for (change, needle) in mismatches {
            let r = try Launcher.run(ranks: 2, flags + change + ["--resume"])
            XCTAssertNotEqual(r.status, 0, "\(change)")
            let lines = errorLines(r)
            XCTAssertEqual(lines.count, 1, "\(change): \(r.stderr)")
            XCTAssertTrue(lines.first?.contains(needle) ?? false, "\(change): \(lines)")
            XCTAssertTrue(lines.first?.contains("ckpt-00000060.lion") ?? false, "\(change): \(lines)")
        }
        XCTAssertEqual(try Data(contentsOf: newest), pristine)

        let empty = try Launcher.temporaryDirectory()
        defer { try? Self.fm.removeItem(at: empty) }
        let none = try Launcher.run(ranks: 2, base + ["--checkpoint", empty.path, "--resume"])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(errorLines(none).first?.contains("no checkpoint in \(empty.path)") ?? false, none.stderr)
    }
}
