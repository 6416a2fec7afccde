import Foundation
import XCTest

/// Bad output paths fail before step 1 with one line; resume refusals say what is wrong (a rank
/// count that cannot split the checkpoint's batch, a directory named like a checkpoint); an
/// unreadable data directory is called unreadable, not missing.
final class OutputPathTests: FaultTestCase {
    static let quick = ["--hidden", "37", "--batch-size", "256", "--max-steps", "5", "--threads", "1", "--log-interval", "1000"]
    func assertRefusedBeforeStepOne(_ args: [String], _ needle: String, env: [String: String] = [:],
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Launcher.run(ranks: 2, Self.quick + args, env: env)
        XCTAssertNotEqual(r.status, 0, "\(args)", file: file, line: line)
        let lines = errorLines(r)
        XCTAssertEqual(lines.count, 1, "\(args): \(r.stderr)", file: file, line: line)
        XCTAssertTrue(lines.first?.contains(needle) ?? false, "\(args): expected '\(needle)' in \(lines)", file: file, line: line)
        // Rank 0 prints a progress line after step 1 whatever --log-interval says.
        XCTAssertFalse(r.stdout.contains("step 1/"), "\(args): ran a step before failing: \(r.stdout)", file: file, line: line)
    }

    func testBadOutputPathsFailBeforeStepOne() throws {
        let dir = try temporaryDirectory()
        let aFile = dir.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: aFile)
        // A directory that does not exist, under our own (a fixed path like /nonexistent may be created by anyone).
        let missing = dir.path + "/missing/p.bin"
        try assertRefusedBeforeStepOne(["--save-params", missing],
                                       "--save-params \(missing): cannot create the file (No such file or directory)")
        try assertRefusedBeforeStepOne(["--save-params", dir.path], "--save-params \(dir.path) is a directory")
        try assertRefusedBeforeStepOne(["--checkpoint", aFile.path], "--checkpoint \(aFile.path) is a file, not a directory")
        try assertRefusedBeforeStepOne(["--checkpoint", aFile.path + "/sub"], "--checkpoint \(aFile.path)/sub: cannot create the directory")
        XCTAssertEqual(try Data(contentsOf: aFile), Data("x".utf8), "a refused path is left as it was")
        XCTAssertEqual(try Self.fm.contentsOfDirectory(atPath: dir.path), ["a-file"], "the probe of --save-params leaves nothing")

        // A read-only file system (root ignores permission bits, not a read-only mount).
        let ro = try mountTmpfs("ro,size=1m")
        try assertRefusedBeforeStepOne(["--checkpoint", ro.path], "--checkpoint \(ro.path): cannot write in the directory (Read-only file system)")
        try assertRefusedBeforeStepOne(["--checkpoint", ro.path + "/ckpt"], "--checkpoint \(ro.path)/ckpt: cannot create the directory (Read-only file system)")
        try assertRefusedBeforeStepOne(["--save-params", ro.path + "/p.bin"], "--save-params \(ro.path)/p.bin: cannot create the file (Read-only file system)")
    }

    func testResumeRefusalsSayWhatIsWrong() throws {
        let dir = try temporaryDirectory()
        let ckpt = dir.appendingPathComponent("ckpt")
        let first = try Launcher.run(ranks: 2, Self.quick + ["--checkpoint", ckpt.path])
        XCTAssertEqual(first.status, 0, first.stderr)

        // W = 3 cannot split batch 256: name the rank counts that can resume it.
        let three = try Launcher.run(ranks: 3, Self.quick + ["--checkpoint", ckpt.path, "--resume"])
        XCTAssertNotEqual(three.status, 0)
        XCTAssertEqual(errorLines(three).count, 1, three.stderr)
        XCTAssertTrue(errorLines(three).first?.contains("written for global batch 256, which does not split over 3 ranks; resume it at 1, 2, 4, 8, 16, 32, 64, 128 or 256 ranks") ?? false,
                      three.stderr)
        let four = try Launcher.run(ranks: 4, Self.quick + ["--checkpoint", ckpt.path, "--resume"])
        XCTAssertEqual(four.status, 0, "a rank count it names resumes it: \(four.stderr)")

        // A directory named like a checkpoint (the newest name) is called one.
        let fake = ckpt.path + "/ckpt-00000100.lion"
        try Self.fm.createDirectory(atPath: fake, withIntermediateDirectories: false)
        let flags = Self.quick + ["--checkpoint", ckpt.path]
        for args in [["--resume"], ["--resume-from", fake, "--checkpoint", dir.path + "/other"]] {
            let r = try Launcher.run(ranks: 2, flags + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            let lines = errorLines(r)
            XCTAssertEqual(lines.count, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(lines.first?.contains("checkpoint \(fake) is a directory, not a checkpoint file") ?? false, "\(args): \(lines)")
            XCTAssertFalse(lines.first?.contains("MPI") ?? true, "\(args): \(lines)")
        }
        let inspected = try Launcher.run(ranks: nil, ["inspect", fake])
        XCTAssertNotEqual(inspected.status, 0)
        XCTAssertTrue(inspected.stderr.contains("is a directory, not a checkpoint file"), inspected.stderr)
    }

    /// Root reads everything, so the unreadable directory is read by an unprivileged user
    /// (setpriv to nobody), the binary alone (one rank): the directory is not searchable.
    func testUnreadableDataDirectoryIsCalledUnreadable() throws {
        let dir = try temporaryDirectory()
        let data = dir.appendingPathComponent("data")
        try Self.fm.createDirectory(at: data, withIntermediateDirectories: false)
        for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try Self.fm.copyItem(atPath: "/usr/share/datasets/fashion-mnist/" + name, toPath: data.appendingPathComponent(name).path)
        }
        try Self.fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
        try Self.fm.setAttributes([.posixPermissions: 0o000], ofItemAtPath: data.path)
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("needs root and setpriv to run the binary as another user")
        }
        let p = Process(), err = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        p.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", try Launcher.binary(), "--data-dir", data.path, "--max-steps", "1"]
        p.environment = Launcher.initialEnvironment.merging(["HOME": "/tmp"]) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 0)
        let lines = errorLines(stderr)
        XCTAssertEqual(lines.count, 1, stderr)
        XCTAssertTrue(lines.first?.contains("\(data.path)/train-images-idx3-ubyte.gz: cannot be reached (Permission denied)") ?? false, "\(lines)")
        XCTAssertFalse(lines.first?.contains("not found") ?? true, "\(lines)")
    }
}
