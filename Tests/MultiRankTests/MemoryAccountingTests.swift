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
