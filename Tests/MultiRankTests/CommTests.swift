import Foundation
import XCTest

/// `--comm allreduce` and `--comm reduce-scatter` (node-shared memory; hierarchical across fake
/// nodes over TCP) must train to the same parameters. MLP 784-37-10: 29,425 parameters, which
/// neither 2, 3 nor 4 divides, so every W pads its last shard.
final class CommTests: XCTestCase {
    let common = TrainedParameters.common

    func finalParams(ranks: Int, _ extra: [String], prefix: [String] = [], expect: String? = nil,
                     file: StaticString = #filePath, line: UInt = #line) throws -> [Float] {
        try TrainedParameters.params(ranks: ranks, extra, prefix: prefix, expect: expect, file: file, line: line)
    }

    func assertClose(_ a: [Float], _ b: [Float], bitwise: Bool, _ what: String) {
        XCTAssertEqual(a.count, b.count, what)
        var maxDiff: Float = 0, differing = 0
        for (x, y) in zip(a, b) where x.bitPattern != y.bitPattern {
            differing += 1
            maxDiff = max(maxDiff, abs(x - y))
        }
        if bitwise {
            XCTAssertEqual(differing, 0, "\(what): \(differing) parameters differ (max \(maxDiff))")
        } else {
            // Another summation order may flip Lion's sign where c ~ 0: a move of 2*lr.
            XCTAssertLessThan(maxDiff, 2e-3, "\(what): max |diff| \(maxDiff)")
            XCTAssertLessThan(differing, a.count / 100, "\(what): \(differing) parameters differ")
        }
    }

    func testReduceScatterMatchesAllreduce() throws {
        let initial = try TrainedParameters.initial()
        for ranks in 2...4 {
            let allreduce = try finalParams(ranks: ranks, ["--comm", "allreduce"], expect: "comm: allreduce")
            let moved = zip(allreduce, initial).filter { abs($0 - $1) > 1e-6 }.count
            XCTAssertGreaterThan(moved, allreduce.count / 2, "training should move most parameters")
            let shm = try finalParams(ranks: ranks, [], expect: "shared memory, 1 node")
            // Two ranks: a + b is the same both ways. More: MPI's order may differ from ours.
            assertClose(shm, allreduce, bitwise: ranks == 2, "W=\(ranks) reduce-scatter vs allreduce")
        }
    }

    func testOverlappedBucketsMatchUnbucketed() throws {
        // --bucket-mb 0.001 (262 floats) splits the 784-37-10 MLP into two buckets.
        let reference = try finalParams(ranks: 3, ["--comm", "allreduce", "--no-overlap"])
        let shm = try finalParams(ranks: 3, ["--bucket-mb", "0.001"], expect: "2 buckets overlapped")
        assertClose(shm, reference, bitwise: false, "W=3 reduce-scatter overlapped")
        let mpi = try finalParams(ranks: 3, ["--comm", "allreduce", "--bucket-mb", "0.001"], expect: "MPI_Iallreduce per bucket, 2 buckets")
        assertClose(mpi, reference, bitwise: false, "W=3 allreduce overlapped")
    }

    func testHierarchicalOverTCPMatchesFlat() throws {
        // 2+2: equal nodes (column reduce-scatter); 2+1: unequal (node-leader allreduce); 1+1: one rank per node.
        let cases: [(ranks: Int, perNode: Int, plan: String)] = [
            (4, 2, "shared memory in 2 nodes of 2"), (3, 2, "2 nodes of unequal size"), (2, 1, "2 nodes of 1")]
        for c in cases {
            let flat = try finalParams(ranks: c.ranks, [])
            let nodes = try finalParams(ranks: c.ranks, [], prefix: Launcher.fakeNodes(perNode: c.perNode),
                                        expect: c.plan)
            assertClose(nodes, flat, bitwise: false, "W=\(c.ranks) in nodes of \(c.perNode) vs one node")
        }
    }

    /// Exposed communication is the combine after backward plus the gather; the total adds what
    /// overlapped backward, so it is larger with overlapped buckets and the same without.
    func testSummaryReportsCommunicationTimes() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let metrics = dir.appendingPathComponent("m.jsonl")
        for overlap in [true, false] {
            let r = try Launcher.run(ranks: 2, common + ["--bucket-mb", "0.001", "--metrics", metrics.path]
                                     + (overlap ? [] : ["--no-overlap"]))
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("ms total,"), r.stdout)
            let summary = try Launcher.readMetrics(metrics).first { $0["event"] as? String == "summary" }
            let steps = try XCTUnwrap(summary?["step_seconds"] as? [String: Any])
            var s: [String: Double] = [:]
            for key in ["compute", "combine", "update", "gather", "comm_total", "comm_exposed"] {
                s[key] = steps[key] as? Double
                XCTAssertNotNil(s[key], "step_seconds.\(key) missing: \(steps)")
            }
            let total = s["comm_total"] ?? 0, exposed = s["comm_exposed"] ?? 0
            XCTAssertEqual(exposed, (s["combine"] ?? 0) + (s["gather"] ?? 0), accuracy: 1e-9 + exposed * 1e-9)
            if overlap {
                XCTAssertGreaterThan(total, exposed, "the first bucket's reduction starts during backward")
            } else {
                XCTAssertEqual(total, exposed, accuracy: 1e-9 + exposed * 1e-9, "nothing overlaps backward")
            }
        }
    }

    /// The claim of docs/communication.md: overlapping bucket reductions with backward changes when the sums
    /// happen, not what they are. Three ranks, two buckets, both combine paths.
    func testOverlapDoesNotChangeParameters() throws {
        for comm in [["--comm", "allreduce"], []] {
            let base = comm + ["--bucket-mb", "0.001"]
            let overlapped = try finalParams(ranks: 3, base, expect: "2 buckets")
            let serial = try finalParams(ranks: 3, base + ["--no-overlap"])
            assertClose(overlapped, serial, bitwise: true, "W=3 \(comm.last ?? "reduce-scatter") overlapped vs not")
        }
    }

    func testBenchCommJSONRows() throws {
        let r = try Launcher.run(ranks: 2, ["bench", "comm", "--mib", "1", "--repeats", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let rows = try r.stdout.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        XCTAssertEqual(rows.map { $0["op"] as? String },
                       ["mpi-allreduce", "mpi-reduce-scatter-allgather", "reduce-scatter-allgather", "sign-vote"])
        for row in rows {
            XCTAssertEqual(Set(row.keys), ["op", "mib", "ranks", "ms", "wire_bytes", "wire_bits_per_param", "cpu"])
            XCTAssertTrue((row["cpu"] as? String)?.hasSuffix("amx_bf16)") == true, "\(row)")
            XCTAssertEqual(row["mib"] as? Int, 1)
            XCTAssertEqual(row["ranks"] as? Int, 2)
            XCTAssertGreaterThan(row["ms"] as? Double ?? 0, 0)
            // 2(W-1)/W * 1 MiB = 32 bits per parameter; sign-vote 3(W-1)/W bits = 1.5.
            let signVote = row["op"] as? String == "sign-vote"
            XCTAssertEqual(row["wire_bytes"] as? Int, signVote ? 3 * (1 << 18) / 16 : 1 << 20)
            XCTAssertEqual(row["wire_bits_per_param"] as? Double, signVote ? 1.5 : 32)
        }
    }}
