import Foundation
import XCTest

/// Bad input: one clear line naming the problem and the fix, non-zero exit on every rank.
final class BadInputTests: XCTestCase {
    /// The lines lion-dist itself wrote to stderr (mpirun adds its own banner after a failure).
    func ourLines(_ r: Launcher.Result) -> [String] {
        r.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("error") || $0.hasPrefix("Error") }
    }

    func testBadFlagValuesStopEveryRankWithOneLine() throws {
        let cases: [([String], String)] = [
            (["--beta2", "1.5"], "--beta2"),
            (["--lr", "-1"], "--lr"),
            (["--weight-decay", "-0.1"], "--weight-decay"),
            (["--hidden", "12,,4"], "--hidden"),
            (["--optimizer", "sgd"], "sgd"),
            (["--epochs", "0"], "--epochs"),
        ]
        for (args, needle) in cases {
            let r = try Launcher.run(ranks: 2, args)
            XCTAssertNotEqual(r.status, 0, "\(args) should fail")
            let lines = ourLines(r)
            XCTAssertEqual(lines.count, 1, "\(args): expected one error line, got \(lines)\n\(r.stderr)")
            XCTAssertTrue(lines.first?.contains(needle) ?? false, "\(args): \(lines)")
        }
    }

    func testBatchThatDoesNotSplitNamesTheNearestSizes() throws {
        let r = try Launcher.run(ranks: 3, ["--batch-size", "100", "--max-steps", "1"])
        XCTAssertNotEqual(r.status, 0)
        let lines = ourLines(r)
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(lines[0].contains("99 or 102"), lines[0])
    }

    func testMissingDatasetNamesThePathAndSetup() throws {
        let r = try Launcher.run(ranks: 2, ["--data-dir", "/nonexistent/fashion", "--max-steps", "1"])
        XCTAssertNotEqual(r.status, 0)
        let lines = ourLines(r)
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(lines[0].contains("/nonexistent/fashion"), lines[0])
        XCTAssertTrue(lines[0].contains("launch/setup"), lines[0])
    }

    func testTruncatedIDXFileIsRefused() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
        for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            var data = try Data(contentsOf: source.appendingPathComponent(name))
            if name == "t10k-images-idx3-ubyte.gz" { data = data.prefix(data.count / 2) }
            try data.write(to: dir.appendingPathComponent(name))
        }
        let r = try Launcher.run(ranks: 2, ["--data-dir", dir.path, "--max-steps", "1"])
        XCTAssertNotEqual(r.status, 0)
        let lines = ourLines(r)
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(lines[0].contains("t10k-images-idx3-ubyte.gz"), lines[0])
        XCTAssertTrue(lines[0].contains("launch/setup"), lines[0])
    }

    func testUnwritableMetricsPathFailsOnEveryRank() throws {
        let r = try Launcher.run(ranks: 2, ["--metrics", "/nonexistent/dir/m.jsonl", "--max-steps", "1"])
        XCTAssertNotEqual(r.status, 0)
        let lines = ourLines(r)
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(lines[0].contains("--metrics"), lines[0])
    }

    func testInspectOfAMissingFileSaysSoOnce() throws {
        let r = try Launcher.run(ranks: nil, ["inspect", "/nonexistent/ckpt-00000001.lion"])
        XCTAssertNotEqual(r.status, 0)
        let lines = ourLines(r)
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(lines.first?.contains("/nonexistent/ckpt-00000001.lion") ?? false, r.stderr)
    }
}
