import Foundation
import XCTest

/// Bad input: one clear line naming the problem and the fix, non-zero exit on every rank.
final class BadInputTests: XCTestCase {
    /// The lines lion-dist itself wrote to stderr (mpirun adds its own banner after a failure).
    func ourLines(_ r: Launcher.Result) -> [String] {
        r.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("error") || $0.hasPrefix("Error") }
    }

    /// The flag errors themselves are CLITests' (parse and validate() in process). Here one of
    /// each path under a real launch: a validate() error, which every rank raises before MPI
    /// starts (only the launcher's rank 0 prints it), and a thread count each rank checks
    /// against its own affinity after MPI starts.
    func testBadFlagValuesStopEveryRankWithOneLine() throws {
        let cases: [([String], String)] = [
            (["--beta2", "1.5"], "--beta2"),
            (["--threads", "30000"], "--threads 30000 is more than the"),
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

    func testInspectOfADirectorySaysSoAndNamesACheckpointFile() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Launcher.run(ranks: nil, ["inspect", dir.path])
        XCTAssertNotEqual(r.status, 0)
        let lines = ourLines(r)
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(lines.first?.contains("\(dir.path) is a directory, not a checkpoint file; pass one checkpoint file") ?? false, r.stderr)
    }

    func testReportNamesTheFileAndLineOfAMalformedRow() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let results = dir.appendingPathComponent("results.jsonl")
        for (text, line, what) in [("\n{\"event\":\"summary\",\"world_size\":1}\n", 2, "without a \"cell\" key"),
                                   ("not json\n", 1, "not a JSON object")] {
            try text.write(to: results, atomically: true, encoding: .utf8)
            let r = try Launcher.run(ranks: nil, ["report", dir.path, "-o", dir.appendingPathComponent("r.html").path])
            XCTAssertNotEqual(r.status, 0)
            let lines = ourLines(r)
            XCTAssertEqual(lines.count, 1, r.stderr)
            XCTAssertTrue(lines.first?.contains("\(results.path) line \(line) is not a sweep result") ?? false, r.stderr)
            XCTAssertTrue(lines.first?.contains(what) ?? false, r.stderr)
        }
    }

    /// A GPT of 400 layers 1024 wide (5 billion parameters, ~60 GiB for Lion on 2 ranks) is
    /// refused before anything is allocated, with the plan's figure and what to change.
    func testRunThatDoesNotFitTheNodesMemoryIsRefusedBeforeAllocating() throws {
        let r = try Launcher.run(ranks: 2, ["--model", "gpt", "--n-layer", "400", "--n-head", "16", "--n-embd", "1024",
                                            "--block-size", "64", "--batch-size", "2", "--steps", "1"])
        XCTAssertNotEqual(r.status, 0)
        let lines = ourLines(r)
        XCTAssertEqual(lines.count, 1, r.stderr)
        let line = lines.first ?? ""
        XCTAssertTrue(line.contains("this run needs about") && line.contains("GiB") && line.contains("available"), line)
        XCTAssertTrue(line.contains("lion-dist plan") && line.contains("--no-memory-check"), line)
    }

    /// 784 x 10^8 parameters: no node has the 627 GB per rank the shared window asks for (the
    /// memory check, which would refuse it first, is off).
    func testModelTooLargeForSharedMemorySaysHowManyBytesAndWhatToChange() throws {
        let r = try Launcher.run(ranks: 2, ["--hidden", "100000000", "--max-steps", "1", "--no-memory-check"])
        XCTAssertNotEqual(r.status, 0)
        let lines = ourLines(r)
        XCTAssertEqual(lines.count, 1, r.stderr)
        let line = lines.first ?? ""
        XCTAssertTrue(line.contains("MPI_Win_allocate_shared cannot allocate"), line)
        XCTAssertTrue(line.contains(" bytes ("), line)
        XCTAssertTrue(line.contains("--hidden") && line.contains("--comm allreduce"), line)
    }
}
