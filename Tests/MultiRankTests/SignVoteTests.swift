import Foundation
import XCTest

/// `--comm sign-vote` under real mpirun: the parameters after a short run are bit for bit those
/// of a single-process simulation of W voters fed the gradients each rank computed (written by
/// the `LION_DIST_SIGNVOTE_DUMP` hook), for W = 2, 3, 4, on the MLP 784-37-10 (29,425
/// parameters: 2, 3 and 4 all leave padding). The simulation is written here from the equations,
/// independently of the kernels: each voter's sign of b1*m + (1-b1)*g (a zero c votes toward
/// zero: +1 where p > 0), m = b2*m + (1-b2)*g, the majority (a tie gives 0), p = p*(1-lr*wd) - lr*vote
/// with weight decay on the weights only.
final class SignVoteTests: XCTestCase {
    let lr: Float = 3e-4, wd: Float = 0.1, b1: Float = 0.9, b2: Float = 0.99
    let steps = 10
    let count = 29_425
    var common: [String] {
        ["--comm", "sign-vote", "--hidden", "37", "--batch-size", "48", "--max-steps", "\(steps)", "--seed", "7",
         "--threads", "1", "--schedule", "constant", "--warmup-steps", "0", "--log-interval", "1000",
         "--lr", "3e-4", "--weight-decay", "0.1", "--beta1", "0.9", "--beta2", "0.99"]
    }

    /// Weight decay of element i: fc0.weight [0, 29008) and fc1.weight [29045, 29415) decay.
    func decays(_ i: Int) -> Bool { i < 29_008 || (i >= 29_045 && i < 29_415) }

    func testVotedUpdateMatchesSimulatedVotersBitForBit() throws {
        var tiesSeen = 0, zeroSignals = 0
        for ranks in 2...4 {
            let dir = try Launcher.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let out = dir.appendingPathComponent("params.f32")
            let r = try Launcher.run(ranks: ranks, common + ["--save-params", out.path], env: ["LION_DIST_SIGNVOTE_DUMP": dir.path])
            XCTAssertEqual(r.status, 0, "W=\(ranks): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("comm: sign-vote"), r.stdout)
            let trained = try Launcher.readFloats(out)
            var p = try Launcher.readFloats(dir.appendingPathComponent("p-0.f32"))
            XCTAssertEqual(p.count, count)
            XCTAssertEqual(trained.count, count)
            let initial = p
            var m = [[Float]](repeating: [Float](repeating: 0, count: count), count: ranks)
            let decay = 1 - lr * wd, c1: Float = 1 - b1, c2: Float = 1 - b2
            var ties = 0
            for s in 0..<steps {
                let g = try (0..<ranks).map { try Launcher.readFloats(dir.appendingPathComponent("g-\(s)-\($0).f32")) }
                for i in 0..<count {
                    var sum = 0
                    for q in 0..<ranks {
                        let gs = g[q][i] * 1
                        let c = b1 * m[q][i] + c1 * gs
                        m[q][i] = b2 * m[q][i] + c2 * gs
                        if c == 0 { zeroSignals += 1 }
                        sum += c > 0 || (c == 0 && p[i] > 0) ? 1 : -1
                    }
                    let vote: Float = sum > 0 ? 1 : (sum < 0 ? -1 : 0)
                    if sum == 0 { ties += 1 }
                    p[i] = p[i] * (decays(i) ? decay : 1) - lr * vote
                }
            }
            let differing = (0..<count).filter { trained[$0].bitPattern != p[$0].bitPattern }
            XCTAssertEqual(differing.count, 0, "W=\(ranks): \(differing.count) parameters differ from the simulation, first at \(differing.first ?? -1)")
            XCTAssertGreaterThan((0..<count).filter { trained[$0] != initial[$0] }.count, count / 2, "W=\(ranks): training should move most parameters")
            if ranks % 2 == 0 { XCTAssertGreaterThan(ties, 0, "W=\(ranks): the run should hold ties") } else { XCTAssertEqual(ties, 0) }
            tiesSeen += ties
        }
        XCTAssertGreaterThan(tiesSeen, 0)
        XCTAssertGreaterThan(zeroSignals, 0, "some voters should have had c == 0 (pixels that are always 0)")
    }
}
