import Foundation
import XCTest

/// `--compute-dtype bf16` keeps one bf16 copy of the parameters per node, each rank narrowing
/// its slice after every step: through the real binary (`LION_DIST_BF16_DUMP`: node rank 0 writes
/// the parameters and the node's copy after each refresh), every copy equals the parameters
/// rounded to nearest even, element by element, on one node and on two (fake) nodes that
/// gather the parameters between them; the nodes hold the same; the parameters do move.
final class BF16SharedWeightsTests: XCTestCase {
    let flags = ["--model", "gpt", "--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--block-size", "16",
                 "--batch-size", "8", "--steps", "3", "--eval-interval", "3", "--eval-batches", "1", "--seed", "5",
                 "--log-interval", "1000", "--compute-dtype", "bf16"]
    static let parameterCount = 84 * 32 + 16 * 32 + 2 * (12 * 32 * 32 + 2 * 32) + 32

    /// bf16 of `x`, round to nearest, ties to even (x finite): the scalar reference.
    func rne(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        return UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
    }

    func readHalves(_ path: URL) throws -> [UInt16] {
        let data = try Data(contentsOf: path)
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 2)).map { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
        }
    }

    /// Runs at `ranks`; returns, per writer (world rank of a node rank 0), its dumps in order.
    func dumps(ranks: Int, prefix: [String], writers: [Int]) throws -> [Int: [(params: [Float], copy: [UInt16])]] {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Launcher.run(ranks: ranks, flags, env: ["LION_DIST_BF16_DUMP": dir.path], mpirunPrefix: prefix)
        if r.stderr.contains("bf16 would be emulated") { throw XCTSkip("no native bf16 here: \(r.stderr)") }
        XCTAssertEqual(r.status, 0, r.stderr)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        // 3 steps and the evaluation: 4 refreshes per node, written by node rank 0 only.
        XCTAssertEqual(Set(names), Set(writers.flatMap { w in (1...4).flatMap { ["rank\(w)-\($0).f32", "rank\(w)-\($0).bf16"] } }))
        var out: [Int: [(params: [Float], copy: [UInt16])]] = [:]
        for w in writers {
            out[w] = try (1...4).map { n in
                (try Launcher.readFloats(dir.appendingPathComponent("rank\(w)-\(n).f32")),
                 try readHalves(dir.appendingPathComponent("rank\(w)-\(n).bf16")))
            }
        }
        return out
    }

    func check(ranks: Int, prefix: [String] = [], writers: [Int]) throws {
        let all = try dumps(ranks: ranks, prefix: prefix, writers: writers)
        for (w, list) in all {
            for (n, d) in list.enumerated() {
                XCTAssertEqual(d.params.count, Self.parameterCount)
                XCTAssertEqual(d.copy.count, Self.parameterCount)
                let wrong = d.params.indices.filter { d.copy[$0] != rne(d.params[$0]) }
                XCTAssertEqual(wrong.count, 0, "W=\(ranks) rank \(w) refresh \(n + 1): \(wrong.count) elements differ, first \(wrong.prefix(5))")
            }
            // Each step moves the parameters (refresh 4 follows the last step, as the evaluation's).
            XCTAssertNotEqual(list[0].params, list[1].params, "W=\(ranks): the parameters did not move")
            XCTAssertNotEqual(list[0].copy, list[3].copy, "W=\(ranks): the copy did not follow")
        }
        for w in writers.dropFirst() {
            for n in 0..<4 {
                XCTAssertEqual(all[w]![n].params, all[writers[0]]![n].params, "W=\(ranks): nodes differ at refresh \(n + 1)")
                XCTAssertEqual(all[w]![n].copy, all[writers[0]]![n].copy, "W=\(ranks): copies differ at refresh \(n + 1)")
            }
        }
    }

    func testOneNodeOfTwoRanks() throws {
        try check(ranks: 2, writers: [0])
    }

    func testTwoNodesOfTwoRanksGatheringAcrossNodes() throws {
        try check(ranks: 4, prefix: Launcher.fakeNodes(perNode: 2), writers: [0, 2])
    }
}
