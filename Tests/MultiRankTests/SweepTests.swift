import Foundation
import XCTest

/// `lion-dist sweep` under real mpirun: one row per cell, resumable, batch sizes checked
/// before any run; `lion-dist report` (no mpirun) draws every chart from it; weak scaling.
final class SweepTests: XCTestCase {
    let tiny = ["--hidden", "37", "--epochs", "1", "--max-steps", "2", "--optimizers", "lion,adamw",
                "--lrs", "1e-3", "--wds", "0.1"]

    func rows(_ dir: URL) throws -> [[String: Any]] {
        try Launcher.readMetrics(dir.appendingPathComponent("results.jsonl"))
    }

    func testSweepWritesRowsResumesAndReports() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("study").path
        var r = try Launcher.run(ranks: 2, ["sweep", "--batch-sizes", "64,128", "--out", out] + tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        var all = try rows(URL(fileURLWithPath: out))
        XCTAssertEqual(all.count, 4)
        XCTAssertEqual(Set(all.map { "\($0["optimizer"]!) \($0["global_batch"]!)" }), ["lion 64", "adamw 64", "lion 128", "adamw 128"])
        for row in all {
            XCTAssertEqual(row["world_size"] as? Int, 2)
            XCTAssertEqual(row["steps"] as? Int, 2)
            XCTAssertEqual((row["per_epoch"] as? [[String: Any]])?.count, 1)
            XCTAssertNotNil(row["test_accuracy"] as? Double)
            XCTAssertNotNil(row["samples_per_s"] as? Double)
            let ranks = try XCTUnwrap(row["ranks"] as? [[String: Any]])
            XCTAssertEqual(ranks.count, 2)
            XCTAssertTrue(ranks.allSatisfy { ($0["peak_rss_bytes"] as? Int ?? 0) > 0 })
        }
        let state = { (o: String) in all.first { $0["optimizer"] as? String == o }.flatMap { ($0["ranks"] as? [[String: Any]])?.first?["optimizer_state_bytes"] as? Int } }
        XCTAssertEqual(state("adamw"), state("lion").map { $0 * 2 })
        let csv = try String(contentsOfFile: out + "/results.csv", encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 5)

        // Restarted with one more batch size: only its two cells run.
        r = try Launcher.run(ranks: 2, ["sweep", "--batch-sizes", "64,128,256", "--out", out] + tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("6 cells, 4 already in"), r.stdout)
        all = try rows(URL(fileURLWithPath: out))
        XCTAssertEqual(all.count, 6)
        XCTAssertEqual(all.filter { $0["global_batch"] as? Int == 256 }.count, 2)

        // The report needs no mpirun, and every chart has data.
        let html = dir.appendingPathComponent("report.html").path
        r = try Launcher.run(ranks: nil, ["report", out, "-o", html])
        XCTAssertEqual(r.status, 0, r.stderr)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        for chart in ["accuracy-vs-batch", "lr-wd-heatmap", "loss-curves", "memory-per-rank", "step-time"] {
            let svg = try XCTUnwrap(page.components(separatedBy: "data-chart=\"\(chart)\"").dropFirst().first, "no \(chart)")
                .components(separatedBy: "</svg>")[0]
            XCTAssertTrue(svg.contains("class=\"mark\""), "chart \(chart) has no data")
        }
    }

    func testBatchThatDoesNotSplitStopsBeforeAnyRun() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("study").path
        let r = try Launcher.run(ranks: 2, ["sweep", "--batch-sizes", "64,99", "--out", out] + tiny)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--batch-sizes: 99 does not split evenly over 2 ranks; use 98 or 100"), r.stderr)
        XCTAssertEqual(r.stderr.components(separatedBy: "error:").count - 1, 1, r.stderr)
        XCTAssertFalse(r.stdout.contains("sweep: cell"), r.stdout)
    }

    func testReportOfMissingDirectoryIsOneLine() throws {
        let r = try Launcher.run(ranks: nil, ["report", "/nonexistent/study", "-o", "/tmp/x.html"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("/nonexistent/study/results.jsonl does not exist"), r.stderr)
    }

    func testBatchPerRankGrowsTheGlobalBatchAndScalesLR() throws {
        let r = try Launcher.run(ranks: 2, ["--hidden", "37", "--max-steps", "2", "--batch-per-rank", "32",
                                            "--lr", "1e-3", "--lr-scaling", "sqrt", "--base-batch", "16"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("global batch 64 (32 per rank)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("lr 0.002 "), r.stdout)   // 1e-3 x sqrt(64/16)
    }
}
