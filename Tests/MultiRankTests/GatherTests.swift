import Foundation
import XCTest

/// The typed gathers under mpirun with ranks that differ: 3 ranks in fake nodes of 2 (ranks 0
/// and 1 share a node, rank 2 is alone), so each rank's memory row, its thread mask and its
/// checkpoint pieces are its own. A gather that mixed rows up, or cut or misread a value,
/// shows here.
final class GatherTests: XCTestCase {
    func testEveryRankReportsItsOwnRowAndTheCheckpointTiles() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let metrics = dir.appendingPathComponent("m.jsonl"), ckpt = dir.appendingPathComponent("ckpt")
        let r = try Launcher.run(ranks: 3, ["--hidden", "37", "--batch-size", "60", "--max-steps", "3", "--threads", "1",
                                            "--metrics", metrics.path, "--checkpoint", ckpt.path],
                                 mpirunPrefix: Launcher.fakeNodes(perNode: 2))
        XCTAssertEqual(r.status, 0, r.stderr)
        let summary = try XCTUnwrap(try Launcher.readMetrics(metrics).last { $0["event"] as? String == "summary" })
        let rows = try XCTUnwrap(summary["ranks"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["rank"] as? Int }, [0, 1, 2])
        var name = [CChar](repeating: 0, count: 256)
        XCTAssertEqual(gethostname(&name, name.count), 0)
        let host = String(decoding: name.prefix { $0 != 0 }.prefix(63).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for row in rows {
            XCTAssertEqual(row["host"] as? String, host, "\(row)")
            XCTAssertGreaterThan(try XCTUnwrap(row["peak_rss_bytes"] as? Int), 1 << 20, "\(row)")
            XCTAssertGreaterThan(try XCTUnwrap(row["end_pss_bytes"] as? Int), 0, "\(row)")
        }
        // The dataset lives once per node: ranks 0 and 1 hold half of it each, rank 2 all of it.
        let dataset = try rows.map { try XCTUnwrap(($0["held_bytes"] as? [String: Any])?["dataset"] as? Int) }
        XCTAssertGreaterThan(dataset[0], 20_000_000)
        XCTAssertEqual(dataset[0], dataset[1])
        XCTAssertEqual(dataset[2] / 2, dataset[0])
        // Every rank's CRC pieces were gathered: the checkpoint reads back valid.
        let inspected = try Launcher.run(ranks: nil, ["inspect", "--json", ckpt.path + "/ckpt-00000003.lion"])
        XCTAssertEqual(inspected.status, 0, inspected.stderr)
        XCTAssertTrue(inspected.stdout.contains("\"valid\":true"), inspected.stdout)
    }
}
