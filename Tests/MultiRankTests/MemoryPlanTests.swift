import Foundation
import XCTest

/// `lion-dist plan` predicts, without allocating, what a run measures: the plan's total per
/// rank must be within 10% of the run's peak Pss (the largest over its ranks), for the MLP and
/// a small GPT at W = 1, 2, 4; and the run's own table prints the same prediction.
final class MemoryPlanTests: XCTestCase {
    /// The plan's "total per rank" line, in bytes.
    func plannedTotal(_ flags: [String], ranks: Int) throws -> Double {
        let r = try Launcher.run(ranks: nil, ["plan"] + flags + ["--ranks", "\(ranks)"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("total per rank") }, r.stdout)
        return try bytes(String(line.dropFirst("total per rank".count)))
    }

    func bytes(_ text: String) throws -> Double {
        let parts = text.split(separator: " ")
        let value = try XCTUnwrap(Double(parts[0]))
        let units: [String: Double] = ["B": 1, "KiB": 1024, "MiB": 1_048_576, "GiB": 1_073_741_824]
        let unit = units[String(parts[1])]
        return value * (try XCTUnwrap(unit, text))
    }

    func measuredPeakPss(_ flags: [String], ranks: Int) throws -> (pss: Double, stdout: String) {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let metrics = dir.appendingPathComponent("m.jsonl")
        let r = try Launcher.run(ranks: ranks, flags + ["--metrics", metrics.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let summary = try XCTUnwrap(try Launcher.readMetrics(metrics).last { $0["event"] as? String == "summary" })
        let rows = try XCTUnwrap(summary["ranks"] as? [[String: Any]])
        XCTAssertEqual(rows.count, ranks)
        return (Double(rows.map { $0["peak_pss_bytes"] as! Int }.max()!), r.stdout)
    }

    func check(_ flags: [String], _ what: String) throws {
        for w in [1, 2, 4] {
            let planned = try plannedTotal(flags, ranks: w)
            let (measured, stdout) = try measuredPeakPss(flags, ranks: w)
            XCTAssertEqual(planned, measured, accuracy: 0.10 * measured,
                           "\(what) W=\(w): plan \(planned / 1048576) MiB vs peak Pss \(measured / 1048576) MiB")
            let table = try XCTUnwrap(stdout.split(separator: "\n").first { $0.hasPrefix("total (measured: peak Pss)") }, stdout)
            let predicted = try bytes(String(table.dropFirst("total (measured: peak Pss)".count)))
            XCTAssertEqual(predicted, planned, accuracy: 0.006 * planned, "\(what) W=\(w): run's table vs plan")
        }
    }

    func testPlanWithinTenPercentOfPeakPssForTheMLP() throws {
        try check(["--batch-size", "256", "--max-steps", "3", "--epochs", "1", "--threads", "1"], "MLP")
    }

    func testPlanWithinTenPercentOfPeakPssForASmallGPT() throws {
        try check(["--model", "gpt", "--batch-size", "8", "--steps", "3", "--eval-batches", "1", "--threads", "1"], "GPT")
    }

    /// Small buckets, so the gradient lives in staging slots (sharded gradients) and not in a
    /// full-size buffer; a run prints how many slots of what size.
    func testPlanWithinTenPercentOfPeakPssForAGPTWithShardedGradients() throws {
        let flags = ["--model", "gpt", "--n-layer", "4", "--batch-size", "8", "--steps", "3", "--eval-batches", "1",
                     "--threads", "1", "--bucket-mb", "0.1"]
        let r = try Launcher.run(ranks: 2, flags + ["--max-steps", "1"])
        XCTAssertTrue(r.stdout.contains("gradients sharded (3 staging slots"), r.stdout)
        try check(flags, "GPT, sharded gradients")
    }

    func testPlanOfThe85MGPTSharesParametersAndHalvesState() throws {
        func plan(_ extra: [String]) throws -> String {
            let r = try Launcher.run(ranks: nil, ["plan", "--model", "gpt", "--n-layer", "12", "--n-head", "12", "--n-embd", "768",
                                                  "--block-size", "256", "--batch-size", "4", "--ranks", "4"] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("85214976 parameters"), r.stdout)
            return r.stdout
        }
        func row(_ text: String, _ label: String) throws -> Double {
            let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix(label) }, text)
            return try bytes(String(line.dropFirst(label.count)))
        }
        let lion = try plan([]), adamw = try plan(["--optimizer", "adamw"]), zero1 = try plan(["--shard", "state-only"])
        let fullGradient = try plan(["--shard", "params"])
        XCTAssertTrue(lion.contains("parameters once per node (shared)"), lion)
        XCTAssertTrue(zero1.contains("parameters private per rank"), zero1)
        let p = 85_214_976.0
        // State: 4P/W for Lion, 8P/W for AdamW; parameters: 4P/4 shared vs 4P private (2-decimal MiB rounding).
        XCTAssertEqual(try row(lion, "optimizer state"), p, accuracy: 0.001 * p)
        XCTAssertEqual(try row(adamw, "optimizer state"), 2 * p, accuracy: 0.002 * p)
        XCTAssertEqual(try row(lion, "parameters (share)"), p, accuracy: 0.001 * p)
        XCTAssertEqual(try row(zero1, "parameters (share)"), 4 * p, accuracy: 0.004 * p)
        // Gradient: a full 4P per rank without sharded gradients; with them, three slots of the
        // largest bucket (one 768 x 3072 matrix and a LayerNorm gain) and the 4P/4 reduced shard.
        XCTAssertEqual(try row(zero1, "gradient staging"), 4 * p, accuracy: 0.004 * p)
        XCTAssertEqual(try row(fullGradient, "gradient staging"), 4 * p, accuracy: 0.004 * p)
        XCTAssertEqual(try row(lion, "gradient staging"), 4 * 3 * (768 * 3072 + 768) + p, accuracy: 0.002 * p)
    }
}
