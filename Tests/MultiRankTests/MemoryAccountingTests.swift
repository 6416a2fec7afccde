import Foundation
import XCTest

/// The summary's memory rows: each rank holds optimizer state for its 1/W shard only, and
/// AdamW's state is exactly twice Lion's.
final class MemoryAccountingTests: XCTestCase {
    func summary(optimizer: String, ranks: Int?, extra: [String] = []) throws -> [String: Any] {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let metrics = dir.appendingPathComponent("m.jsonl")
        let r = try Launcher.run(ranks: ranks, ["--hidden", "37", "--batch-size", "64", "--max-steps", "3",
                                                "--optimizer", optimizer, "--metrics", metrics.path] + extra)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("optimizer state"), "memory table missing:\n\(r.stdout)")
        let events = try Launcher.readMetrics(metrics)
        XCTAssertTrue(events.contains { $0["event"] as? String == "epoch" })
        XCTAssertTrue(events.contains { $0["event"] as? String == "step" })
        return try XCTUnwrap(events.last { $0["event"] as? String == "summary" })
    }

    func stateBytes(_ s: [String: Any]) -> [Int] {
        (s["ranks"] as! [[String: Any]]).map { $0["optimizer_state_bytes"] as! Int }
    }

    func testLionStateIsAQuarterPerRankAndHalfOfAdamW() throws {
        let lion = try summary(optimizer: "lion", ranks: 4)
        let adamw = try summary(optimizer: "adamw", ranks: 4)
        for key in ["world_size", "optimizer", "params", "test_accuracy", "seconds", "samples_per_s", "ranks"] {
            XCTAssertNotNil(lion[key], "summary lacks \(key)")
        }
        XCTAssertEqual(lion["world_size"] as? Int, 4)
        let params = try XCTUnwrap(lion["params"] as? Int)
        XCTAssertEqual(params, 29_425)
        let shard = (params + 3) / 4
        let lionBytes = stateBytes(lion), adamBytes = stateBytes(adamw)
        XCTAssertEqual(lionBytes.count, 4)
        for (l, a) in zip(lionBytes, adamBytes) {
            // A quarter of the unsharded 4N bytes, plus at most one cache line of padding.
            XCTAssertGreaterThanOrEqual(l, shard * 4)
            XCTAssertLessThan(l, shard * 4 + 64)
            XCTAssertEqual(a, 2 * l)
        }
        for row in lion["ranks"] as! [[String: Any]] {
            XCTAssertGreaterThan(row["peak_rss_bytes"] as! Int, 0)
            // Pss divides shared pages among the ranks that map them: above zero, at most RSS.
            let pss = try XCTUnwrap(row["peak_pss_bytes"] as? Int)
            XCTAssertGreaterThan(pss, 0)
            XCTAssertLessThanOrEqual(pss, row["peak_rss_bytes"] as! Int)
            XCTAssertNotNil(row["held_bytes"] as? [String: Any])
            XCTAssertGreaterThanOrEqual(row["param_bytes"] as! Int, params * 4)
            XCTAssertFalse((row["host"] as! String).isEmpty)
        }
    }

    /// `--compute-dtype bf16` holds one bf16 copy of the parameters per node: each of the node's
    /// 4 ranks counts 2P/4 of it (fp32: none), and Pss divides it and the fp32 parameters evenly,
    /// so no rank carries a node's copy in full (the ranks' peak Pss differ by less than P bytes:
    /// a copy in full on one rank would add 1.5 of that).
    func testBF16ParameterCopyIsSharedEvenlyPerNode() throws {
        let gpt = ["--model", "gpt", "--n-layer", "4", "--n-head", "4", "--n-embd", "384", "--block-size", "64",
                   "--batch-size", "4", "--max-steps", "2", "--eval-batches", "1", "--threads", "1"]
        func rows(_ dtype: String) throws -> [[String: Any]] {
            let dir = try Launcher.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let metrics = dir.appendingPathComponent("m.jsonl")
            let r = try Launcher.run(ranks: 4, gpt + ["--compute-dtype", dtype, "--metrics", metrics.path])
            XCTAssertEqual(r.status, 0, r.stderr)
            let summary = try XCTUnwrap(try Launcher.readMetrics(metrics).last { $0["event"] as? String == "summary" })
            return try XCTUnwrap(summary["ranks"] as? [[String: Any]])
        }
        let p = 84 * 384 + 64 * 384 + 4 * (12 * 384 * 384 + 2 * 384) + 384
        func copy(_ row: [String: Any]) -> Int? { (row["held_bytes"] as? [String: Any])?["compute_parameters"] as? Int }
        let bf16 = try rows("bf16"), fp32 = try rows("fp32")
        XCTAssertEqual(bf16.map(copy), Array(repeating: 2 * p / 4, count: 4))
        XCTAssertEqual(fp32.map(copy), Array(repeating: 0, count: 4))
        let pss = bf16.map { $0["peak_pss_bytes"] as! Int }
        XCTAssertLessThan(pss.max()! - pss.min()!, p, "peak Pss per rank \(pss)")
    }

    func testBF16StateHalvesLion() throws {
        let fp32 = stateBytes(try summary(optimizer: "lion", ranks: 2))
        let bf16 = stateBytes(try summary(optimizer: "lion", ranks: 2, extra: ["--state-dtype", "bf16"]))
        XCTAssertEqual(bf16.map { $0 * 2 }, fp32)
    }

    func testOneRankWithoutMPIRun() throws {
        let s = try summary(optimizer: "lion", ranks: nil)
        XCTAssertEqual(s["world_size"] as? Int, 1)
        XCTAssertEqual(stateBytes(s).count, 1)
    }
}
