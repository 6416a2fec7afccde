import Foundation
import XCTest

/// `--compute-dtype bf16` keeps one bf16 copy of the parameters per node, each rank narrowing
/// its slice after every step: through the real binary (`LION_DIST_BF16_DUMP`: node rank 0 writes
/// the parameters and the node's copy after each refresh), every copy equals the parameters
/// rounded to nearest even, element by element, on one node, on two (fake) nodes that gather
/// the parameters between them, and with private parameters per rank (allreduce, sign-vote);
/// the nodes hold the same; the parameters do move.
final class BF16SharedWeightsTests: XCTestCase {
    static let model = ["--model", "gpt", "--n-layer", "2", "--n-head", "2", "--n-embd", "32", "--block-size", "16",
                        "--batch-size", "8", "--eval-batches", "1", "--seed", "5", "--log-interval", "1000"]
    let flags = model + ["--steps", "3", "--eval-interval", "3", "--compute-dtype", "bf16"]
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
    func dumps(ranks: Int, prefix: [String], writers: [Int], extra: [String]) throws -> [Int: [(params: [Float], copy: [UInt16])]] {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Launcher.run(ranks: ranks, flags + extra, env: ["LION_DIST_BF16_DUMP": dir.path], mpirunPrefix: prefix)
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

    func check(ranks: Int, prefix: [String] = [], writers: [Int], extra: [String] = []) throws {
        let all = try dumps(ranks: ranks, prefix: prefix, writers: writers, extra: extra)
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

    /// A checkpoint holds the fp32 master parameters whatever the compute dtype: a bf16 run
    /// resumed in bf16 ends bitwise where the uninterrupted run does (its node's copy is refreshed
    /// from the loaded parameters), resumes in fp32, and an fp32 checkpoint resumes in bf16 with
    /// the copy made from the checkpoint's parameters.
    func testCheckpointsResumeAcrossComputeDTypes() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = Self.model + ["--steps", "6", "--eval-interval", "3", "--schedule", "constant", "--warmup-steps", "0"]
        func train(_ dtype: String, _ extra: [String], env: [String: String] = [:]) throws -> Launcher.Result {
            let r = try Launcher.run(ranks: 2, run + ["--compute-dtype", dtype] + extra, env: env)
            if r.stderr.contains("bf16 would be emulated") { throw XCTSkip("no native bf16 here: \(r.stderr)") }
            XCTAssertEqual(r.status, 0, "\(dtype) \(extra): \(r.stderr)")
            return r
        }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let ckpt = "/ckpt-00000003.lion"
        _ = try train("bf16", ["--checkpoint", path("b"), "--checkpoint-every", "3", "--save-params", path("b.f32")])
        let again = try train("bf16", ["--resume-from", path("b") + ckpt, "--save-params", path("b2.f32")])
        XCTAssertTrue(again.stdout.contains("resumed from"), again.stdout)
        XCTAssertEqual(try Launcher.readFloats(URL(fileURLWithPath: path("b2.f32"))),
                       try Launcher.readFloats(URL(fileURLWithPath: path("b.f32"))), "bf16 resumed in bf16")
        _ = try train("fp32", ["--resume-from", path("b") + ckpt])

        _ = try train("fp32", ["--checkpoint", path("f"), "--checkpoint-every", "3"])
        _ = try train("fp32", ["--max-steps", "3", "--save-params", path("f3.f32")])
        try FileManager.default.createDirectory(atPath: path("dump"), withIntermediateDirectories: true)
        _ = try train("bf16", ["--resume-from", path("f") + ckpt], env: ["LION_DIST_BF16_DUMP": path("dump")])
        let first = try Launcher.readFloats(URL(fileURLWithPath: path("dump/rank0-1.f32")))
        XCTAssertEqual(first, try Launcher.readFloats(URL(fileURLWithPath: path("f3.f32"))), "fp32 checkpoint resumed in bf16")
        let copy = try readHalves(URL(fileURLWithPath: path("dump/rank0-1.bf16")))
        XCTAssertEqual(copy, first.map(rne))
    }

    func testOneNodeOfTwoRanks() throws {
        try check(ranks: 2, writers: [0])
    }

    /// With private parameters per rank (MPI_Allreduce; sign-vote Lion) each rank narrows its
    /// slice from its own copy: they hold the same parameters, so the node's copy is whole.
    func testPrivateParameterCopiesFillOneNodeCopy() throws {
        try check(ranks: 2, writers: [0], extra: ["--comm", "allreduce"])
        try check(ranks: 2, writers: [0], extra: ["--comm", "sign-vote"])
    }

    func testTwoNodesOfTwoRanksGatheringAcrossNodes() throws {
        try check(ranks: 4, prefix: Launcher.fakeNodes(perNode: 2), writers: [0, 2])
    }
}
