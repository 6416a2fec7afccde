import Foundation
import XCTest

/// A link taken down mid-run in the test bed (node2's eth0, once rank 0 has logged 20 steps):
/// the stall watchdog ends the ranks with one line naming the host that did not arrive. mpirun
/// itself waits for node2's daemon until the link is back (OpenMPI 4.1), so the test brings the
/// link up once the line is written, then expects a non-zero exit. Every wait is for an event,
/// bounded by a deadline against a hang.
final class TestBedStallTests: FaultTestCase {
    override func setUpWithError() throws {
        try TestBed.up(hosts: 2, rate: "1gbit")
    }

    override func tearDown() {
        super.tearDown()
        TestBed.down()
    }

    /// Waits until `condition` holds, polling every 0.1 s; false at the deadline.
    func wait(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    func testLinkDownEndsTheRanksWithALineNamingTheHost() throws {
        let dir = try temporaryDirectory()
        let metrics = dir.appendingPathComponent("m.jsonl"), err = dir.appendingPathComponent("stderr")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["mpirun", "-n", "2"] + (try TestBed.mpirunPrefix(hosts: "node1:1,node2:1"))
            + [try Launcher.binary(), "--hidden", "37", "--epochs", "100", "--threads", "1", "--log-interval", "1e-9",
               "--metrics", metrics.path, "--stall-timeout", "5"]
        var env = Launcher.initialEnvironment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        p.environment = env
        _ = Self.fm.createFile(atPath: err.path, contents: nil)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        cleanup.append { if p.isRunning { p.terminate() } }
        let lines = { (try? String(contentsOf: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0 }
        XCTAssertTrue(wait(seconds: 120) { lines() >= 20 }, "the run never logged 20 steps")
        XCTAssertEqual(try TestBed.command("ip", ["-n", "node2", "link", "set", "eth0", "down"]).status, 0)
        let stderr = { (try? String(contentsOf: err, encoding: .utf8)) ?? "" }
        XCTAssertTrue(wait(seconds: 5 + 30) { stderr().contains("error: stall:") }, "no stall line: \(stderr())")
        XCTAssertEqual(try TestBed.command("ip", ["-n", "node2", "link", "set", "eth0", "up"]).status, 0)
        XCTAssertTrue(wait(seconds: 120) { !p.isRunning }, "mpirun did not end after the link came back")
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 0)
        let ours = stderr().split(separator: "\n").filter { $0.hasPrefix("error") }
        XCTAssertGreaterThanOrEqual(ours.count, 1, stderr())
        XCTAssertTrue(ours.allSatisfy { $0.hasPrefix("error: stall: ") }, "\(ours)")
        XCTAssertTrue(ours.contains { $0.contains("rank 0 on node1 made no progress") && $0.contains("another host: node2 (rank 1)") }, "\(ours)")
    }
}
