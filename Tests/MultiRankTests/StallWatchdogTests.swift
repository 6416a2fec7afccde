import Foundation
import XCTest

/// `--stall-timeout`: a rank that stops (SIGSTOP, at a known point: it stops itself at the
/// start of step 4 through `LION_DIST_FAULT_STOP`, so nothing races) ends the job within the
/// timeout plus a few seconds, with one line naming the step, the phase and the rank that did
/// not arrive. Without the watchdog the others would wait in the combine forever; the
/// Launcher's timeout (90 s) catches that.
final class StallWatchdogTests: XCTestCase {
    static let quick = ["--hidden", "37", "--epochs", "1", "--max-steps", "200", "--threads", "1", "--log-interval", "1000"]

    func testStoppedRankEndsTheJobWithALineNamingIt() throws {
        for comm in ["reduce-scatter", "allreduce"] {
            let r = try Launcher.run(ranks: 2, Self.quick + ["--comm", comm, "--stall-timeout", "5"],
                                     env: ["LION_DIST_FAULT_STOP": "1:3"], timeout: 90)
            XCTAssertNotEqual(r.status, 0, comm)
            let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error") }
            XCTAssertEqual(lines.count, 1, "\(comm): \(r.stderr)")
            guard let line = lines.first.map(String.init) else { continue }
            XCTAssertTrue(line.hasPrefix("error: stall: rank 0 on "), line)
            XCTAssertTrue(line.contains("at step 4, the gradient exchange (combine, update, gather)"), line)
            XCTAssertTrue(line.contains("--stall-timeout 5"), line)
            XCTAssertTrue(line.contains("not arrived: rank 1 on "), line)
            XCTAssertTrue(line.contains("stopped or hung; last in step 4, forward/backward"), line)
            XCTAssertTrue(line.hasSuffix("ending the job (MPI_Abort from the stall watchdog)"), line)
            XCTAssertFalse(r.stdout.contains("done: "), r.stdout)
        }
    }

    /// Bad values (-1, inf, nan) are refused by validate(): CLITests.
    func testZeroTurnsItOff() throws {
        let ok = try Launcher.run(ranks: 2, ["--hidden", "37", "--max-steps", "3", "--threads", "1", "--stall-timeout", "0"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
    }
}
