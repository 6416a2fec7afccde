import Foundation
import XCTest

/// `--metrics` never costs training: a full disk leaves the run training to its end with one
/// warning and the summary saying where the log stopped; the file is opened in place (a symlink
/// stays one); a path that is not a regular file, or whose directory is missing, is refused
/// before step 1.
final class MetricsFaultTests: FaultTestCase {
    /// A progress line (and a `step` event of ~150 bytes) after every step.
    static let quick = ["--hidden", "37", "--batch-size", "256", "--max-steps", "100", "--threads", "1", "--log-interval", "1e-9"]

    /// Fills the file system of `dir` with one file, then gives back `free` bytes (pages) of it.
    func fill(_ dir: URL, leaving free: Int) throws {
        let path = dir.appendingPathComponent("filler").path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let chunk = [UInt8](repeating: 1, count: 65536)
        var written = 0
        while true {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            written += n
        }
        XCTAssertEqual(ftruncate(fd, off_t(written - free)), 0)
    }

    func testFullMetricsDiskWarnsOnceAndTrainsToTheEnd() throws {
        let disk = try mountTmpfs("size=3m")
        // Two pages: room for some 50 step lines of the 100 the run writes, never for all.
        try fill(disk, leaving: 8192)
        let metrics = disk.appendingPathComponent("run.jsonl")
        let r = try Launcher.run(ranks: 2, Self.quick + ["--metrics", metrics.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let warnings = r.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: --metrics") }
        XCTAssertEqual(warnings.count, 1, r.stderr)
        XCTAssertTrue(warnings.first?.contains("(No space left on device); metrics stopped, training continues") ?? false, r.stderr)
        XCTAssertTrue(errorLines(r).isEmpty, r.stderr)
        XCTAssertTrue(r.stdout.contains("step 100/"), "trained to its end: \(r.stdout)")
        XCTAssertTrue(r.stdout.contains("done: "), r.stdout)
        // The summary names the step, and the file holds only whole lines up to it.
        let events = try Launcher.readMetrics(metrics)
        XCTAssertGreaterThan(events.count, 5)
        let steps = events.compactMap { $0["step"] as? Int }
        guard let last = steps.last else { return XCTFail("no step events") }
        XCTAssertLessThan(last, 100)
        XCTAssertTrue(r.stdout.contains("metrics stopped at step \(last + 1) (No space left on device): --metrics \(metrics.path) holds the lines before it"),
                      r.stdout)
    }

    func testSymlinkAtMetricsStaysASymlink() throws {
        let dir = try temporaryDirectory()
        for existing in [false, true] {
            let target = dir.appendingPathComponent("target-\(existing).jsonl"), link = dir.appendingPathComponent("link-\(existing)")
            if existing { try Data("old\n".utf8).write(to: target) }
            try Self.fm.createSymbolicLink(atPath: link.path, withDestinationPath: target.path)
            let r = try Launcher.run(ranks: 2, OutputPathTests.quick + ["--metrics", link.path])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try Self.fm.destinationOfSymbolicLink(atPath: link.path), target.path, "the symlink still points where it did")
            let events = try Launcher.readMetrics(target)
            XCTAssertEqual(events.last?["event"] as? String, "summary", "written through the link")
        }
    }

    func testPathsThatAreNotFilesAreRefusedBeforeStepOne() throws {
        let dir = try temporaryDirectory()
        let device = dir.appendingPathComponent("full")
        // A copy of /dev/full (char 1:7), so a wrong replacement could not harm the real one.
        XCTAssertEqual(try Self.shell(["mknod", device.path, "c", "1", "7"]), 0, "mknod needs root")
        let cases = [
            (dir.path, "--metrics \(dir.path) is a directory"),
            (device.path, "--metrics \(device.path) is not a regular file"),
            (dir.path + "/missing/run.jsonl", "--metrics \(dir.path)/missing/run.jsonl: cannot open the file (No such file or directory)"),
        ]
        for (path, needle) in cases {
            let r = try Launcher.run(ranks: 2, OutputPathTests.quick + ["--metrics", path])
            XCTAssertNotEqual(r.status, 0, path)
            let lines = errorLines(r)
            XCTAssertEqual(lines.count, 1, "\(path): \(r.stderr)")
            XCTAssertTrue(lines.first?.contains(needle) ?? false, "expected '\(needle)' in \(lines)")
            XCTAssertFalse(r.stdout.contains("step 1/"), "ran a step before failing: \(r.stdout)")
        }
        var s = stat()
        XCTAssertEqual(lstat(device.path, &s), 0)
        XCTAssertEqual(s.st_mode & S_IFMT, S_IFCHR, "the device node is still a device")
    }
}
