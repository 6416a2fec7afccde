import Foundation
import XCTest

/// `lion-dist plan` predicts, without allocating, what a run measures: for the MLP and a small
/// GPT at W = 1, 2, 4, the plan's parameters, gradient staging and optimizer state per rank are
/// what every rank of the run holds (to the plan's 2-decimal rounding; each is a few percent of
/// the total or less, so only a check of its own sees it wrong), its total per rank is within
/// 10% of the run's peak Pss (the largest over its ranks), and the run's own table prints the
/// same prediction.
final class MemoryPlanTests: XCTestCase {
    /// A value as printed ("795.50 KiB"), in bytes, and half the last printed digit in bytes.
    func bytes(_ text: String) throws -> (value: Double, rounding: Double) {
        let parts = text.split(separator: " ")
        let value = try XCTUnwrap(Double(parts[0]), text)
        let units: [String: Double] = ["B": 1, "KiB": 1024, "MiB": 1_048_576, "GiB": 1_073_741_824]
        let unit = try XCTUnwrap(units[String(parts[1])], text)
        return (value * unit, unit == 1 ? 0.5 : 0.005 * unit)
    }

    /// The value of the row that starts with `label` in a printed table.
    func row(_ text: String, _ label: String) throws -> (value: Double, rounding: Double) {
        let line = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix(label) }, "no '\(label)' in:\n\(text)")
        return try bytes(String(line.dropFirst(label.count)))
    }

    static let components = [("parameters (share)", "parameters"), ("bf16 parameters (share)", "compute_parameters"),
                             ("gradient staging", "gradients"), ("optimizer state", "optimizer_state"),
                             ("activations + workspace", "activations")]

    /// `expect[W]`: text the run at W must print (the plan it chose).
    func check(_ flags: [String], _ what: String, expect: [Int: String] = [:]) throws {
        for w in [1, 2, 4] {
            let plan = try Launcher.run(ranks: nil, ["plan"] + flags + ["--ranks", "\(w)"])
            XCTAssertEqual(plan.status, 0, plan.stderr)
            let planned = try row(plan.stdout, "total per rank").value

            let dir = try Launcher.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let metrics = dir.appendingPathComponent("m.jsonl")
            let r = try Launcher.run(ranks: w, flags + ["--metrics", metrics.path])
            XCTAssertEqual(r.status, 0, r.stderr)
            if let text = expect[w] { XCTAssertTrue(r.stdout.contains(text), "\(what) W=\(w): no '\(text)' in:\n\(r.stdout)") }
            let summary = try XCTUnwrap(try Launcher.readMetrics(metrics).last { $0["event"] as? String == "summary" })
            let ranks = try XCTUnwrap(summary["ranks"] as? [[String: Any]])
            XCTAssertEqual(ranks.count, w)

            for (label, key) in Self.components {
                let predicted = try row(plan.stdout, label)
                for rank in ranks {
                    let held = try XCTUnwrap((rank["held_bytes"] as? [String: Any])?[key] as? Int, "\(rank)")
                    XCTAssertEqual(predicted.value, Double(held), accuracy: predicted.rounding,
                                   "\(what) W=\(w) rank \(rank["rank"] ?? "?"): \(label) planned \(predicted.value) B, held \(held) B")
                }
            }
            let measured = Double(ranks.map { $0["peak_pss_bytes"] as! Int }.max()!)
            XCTAssertEqual(planned, measured, accuracy: 0.10 * measured,
                           "\(what) W=\(w): plan \(planned / 1048576) MiB vs peak Pss \(measured / 1048576) MiB")
            let predicted = try row(r.stdout, "total (measured: peak Pss)").value
            XCTAssertEqual(predicted, planned, accuracy: 0.006 * planned, "\(what) W=\(w): run's table vs plan")
        }
    }

    func testPlanMatchesWhatTheMLPHoldsAndItsPeakPss() throws {
        try check(["--batch-size", "256", "--max-steps", "3", "--epochs", "1", "--threads", "1"], "MLP")
    }

    func testPlanMatchesWhatASmallGPTHoldsAndItsPeakPss() throws {
        // fp32 pinned: plan and run each settle `auto` by measuring, and a busy host may tip one of them.
        try check(["--model", "gpt", "--batch-size", "8", "--steps", "3", "--eval-batches", "1", "--threads", "1",
                   "--compute-dtype", "fp32"], "GPT")
    }

    /// bf16 products: one bf16 copy of the parameters per node (1/k per rank), the workspace's
    /// bf16 activations. 256 wide: at the baby GPT's 128 (17-18 MiB per rank with bf16
    /// activations) the runtime's own pages, planned at a fixed 9.75 MiB and measured 7.5-10.6,
    /// alone could take the total past 10%.
    func testPlanMatchesWhatABF16GPTHoldsAndItsPeakPss() throws {
        try check(["--model", "gpt", "--n-layer", "4", "--n-embd", "256", "--batch-size", "16", "--steps", "3", "--eval-batches", "1",
                   "--threads", "1", "--compute-dtype", "bf16"], "GPT bf16")
    }

    /// Small buckets, so the gradient lives in staging slots (sharded gradients) and not in a
    /// full-size buffer; a run prints how many slots of what size.
    func testPlanMatchesWhatAGPTWithShardedGradientsHoldsAndItsPeakPss() throws {
        let flags = ["--model", "gpt", "--n-layer", "4", "--batch-size", "8", "--steps", "3", "--eval-batches", "1",
                     "--threads", "1", "--bucket-mb", "0.1", "--compute-dtype", "fp32"]
        try check(flags, "GPT, sharded gradients", expect: [2: "gradients sharded (3 staging slots", 4: "gradients sharded (3 staging slots"])
    }

    func testPlanOfThe85MGPTSharesParametersAndHalvesState() throws {
        func plan(_ extra: [String]) throws -> String {
            let r = try Launcher.run(ranks: nil, ["plan", "--model", "gpt", "--n-layer", "12", "--n-head", "12", "--n-embd", "768",
                                                  "--block-size", "256", "--batch-size", "4", "--ranks", "4", "--compute-dtype", "fp32"] + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("85214976 parameters"), r.stdout)
            return r.stdout
        }
        let lion = try plan([]), adamw = try plan(["--optimizer", "adamw"]), zero1 = try plan(["--shard", "state-only"])
        let fullGradient = try plan(["--shard", "params"]), bf16 = try plan(["--compute-dtype", "bf16"])
        XCTAssertTrue(lion.contains("parameters once per node (shared)"), lion)
        XCTAssertTrue(zero1.contains("parameters private per rank"), zero1)
        let p = 85_214_976.0
        // State: 4P/W for Lion, 8P/W for AdamW; parameters: 4P/4 shared vs 4P private (2-decimal MiB rounding).
        XCTAssertEqual(try row(lion, "optimizer state").value, p, accuracy: 0.001 * p)
        XCTAssertEqual(try row(adamw, "optimizer state").value, 2 * p, accuracy: 0.002 * p)
        XCTAssertEqual(try row(lion, "parameters (share)").value, p, accuracy: 0.001 * p)
        XCTAssertEqual(try row(zero1, "parameters (share)").value, 4 * p, accuracy: 0.004 * p)
        // Gradient: a full 4P per rank without sharded gradients; with them, three slots of the
        // largest bucket (one 768 x 3072 matrix and a LayerNorm gain) and the 4P/4 reduced shard.
        XCTAssertEqual(try row(zero1, "gradient staging").value, 4 * p, accuracy: 0.004 * p)
        XCTAssertEqual(try row(fullGradient, "gradient staging").value, 4 * p, accuracy: 0.004 * p)
        XCTAssertEqual(try row(lion, "gradient staging").value, 4 * 3 * (768 * 3072 + 768) + p, accuracy: 0.002 * p)
        // bf16: its copy of the parameters once per node, 2P/4 per rank, none in fp32; the
        // workspace keeps the product operands in bf16 (8C per block, 6C shared, 256 rows) and one
        // residualMid (not 12), and adds an output-gradient buffer (256 x 3072) and, in the attention
        // slot, a bf16 (256, 64) tile and an fp32 (256, 64) output for the (64, 64) transposed tile:
        // 44.92 MiB less (WorkspaceBytesTests).
        XCTAssertEqual(try row(bf16, "bf16 parameters (share)").value, 2 * p / 4, accuracy: 0.001 * p)
        XCTAssertEqual(try row(lion, "bf16 parameters (share)").value, 0)
        XCTAssertEqual(try row(bf16, "activations + workspace").value - row(lion, "activations + workspace").value,
                       -Double(2 * 256 * (8 * 12 * 768 + 6 * 768) + 4 * 256 * 11 * 768 - 2 * 256 * 3072 - (2 * 256 * 64 + 4 * 256 * 64 - 4 * 64 * 64)),
                       accuracy: 0.01 * 1_048_576)
    }
}
