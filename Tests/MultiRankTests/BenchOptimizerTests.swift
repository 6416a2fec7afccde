import Foundation
import XCTest

/// `lion-dist bench optimizer --json`, one process: the documented keys on every row, the
/// kernels in their order, and the CPU the figures came from (no timed assertions).
final class BenchOptimizerTests: XCTestCase {
    func testJSONRowsNameTheirKernelAndCPU() throws {
        let r = try Launcher.run(ranks: nil, ["bench", "optimizer", "--elements", "64K", "--threads", "1", "--repeats", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try r.stdout.split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], String($0))
        }
        XCTAssertEqual(rows.map { $0["kernel"] as? String },
                       ["limit-20B", "lion-fp32", "lion-bf16", "adamw-fp32", "limit-28B", "lion-cautious"], r.stdout)
        let cpu = rows.first?["cpu"] as? String
        XCTAssertTrue(cpu?.contains("avx512f") == true, r.stdout)
        for row in rows {
            let keys: Set<String> = ["kernel", "elements", "threads", "ms", "gb_per_s", "fraction_of_limit", "cpu"]
            XCTAssertEqual(Set(row.keys), row["kernel"] as? String == "lion-cautious" ? keys.union(["masked_fraction"]) : keys)
            XCTAssertEqual(row["elements"] as? Int, 65536)
            XCTAssertEqual(row["threads"] as? Int, 1)
            XCTAssertGreaterThan(row["ms"] as? Double ?? 0, 0)
            XCTAssertEqual(row["cpu"] as? String, cpu)
        }
    }
}
