import Foundation
import XCTest

/// An error on one rank only (its backward, with the other buckets already handed off, or its
/// evaluation) ends every rank with that rank's message: the rank writes it and calls
/// MPI_Abort. Before, the others waited in the combine and the failing rank in MPI_Win_free,
/// until killed; the Launcher's timeout (60 s, against ~3 s for the run) catches a hang.
final class RankFailureTests: XCTestCase {
    static let quick = ["--hidden", "37", "--epochs", "1", "--max-steps", "5", "--threads", "1", "--log-interval", "1000"]

    func assertEndsEveryRank(_ spec: String, _ args: [String], message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Launcher.run(ranks: 2, Self.quick + args, env: ["LION_DIST_FAULT_THROW": spec], timeout: 60)
        XCTAssertNotEqual(r.status, 0, "\(spec) \(args)", file: file, line: line)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error") }
        XCTAssertEqual(lines.count, 1, "\(spec) \(args): \(r.stderr)", file: file, line: line)
        XCTAssertTrue(lines.first?.hasPrefix("error (rank 1 of 2 on ") ?? false, "\(lines)", file: file, line: line)
        XCTAssertTrue(lines.first?.contains("\(message) (LION_DIST_FAULT_THROW); ending every rank (MPI_Abort)") ?? false,
                      "\(lines)", file: file, line: line)
        XCTAssertFalse(r.stdout.contains("done: "), "no rank finished the run: \(r.stdout)", file: file, line: line)
    }

    func testBackwardThrowingOnOneRankEndsEveryRank() throws {
        for comm in [["--comm", "reduce-scatter"], ["--comm", "allreduce"], ["--comm", "allreduce", "--no-overlap"],
                     ["--comm", "sign-vote"]] {
            try assertEndsEveryRank("1:step:3", comm, message: "injected failure in step 3")
        }
    }

    func testEvaluationThrowingOnOneRankEndsEveryRank() throws {
        try assertEndsEveryRank("1:eval:0", [], message: "injected failure in eval 0")
    }
}
