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
            let (ties, zeros) = try checkAgainstSimulation(ranks: ranks, average: false)
            if ranks % 2 == 0 { XCTAssertGreaterThan(ties, 0, "W=\(ranks): the run should hold ties") } else { XCTAssertEqual(ties, 0) }
            tiesSeen += ties
            zeroSignals += zeros
        }
        XCTAssertGreaterThan(tiesSeen, 0)
        XCTAssertGreaterThan(zeroSignals, 0, "some voters should have had c == 0 (pixels that are always 0)")
    }

    /// `--vote average`: p -= lr * (mean of the W votes), the rest as the majority.
    func testAveragedVotesMatchSimulatedVotersBitForBit() throws {
        for ranks in 3...4 { _ = try checkAgainstSimulation(ranks: ranks, average: true) }
    }

    /// Runs `steps` steps at `ranks` with the dump hook and replays them; returns the ties and
    /// the zero signals (c == 0) the simulation met.
    func checkAgainstSimulation(ranks: Int, average: Bool) throws -> (ties: Int, zeros: Int) {
        var zeroSignals = 0
        do {
            let dir = try Launcher.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let out = dir.appendingPathComponent("params.f32")
            let r = try Launcher.run(ranks: ranks, common + ["--save-params", out.path] + (average ? ["--vote", "average"] : []),
                                     env: ["LION_DIST_SIGNVOTE_DUMP": dir.path])
            XCTAssertEqual(r.status, 0, "W=\(ranks): \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("comm: sign-vote"), r.stdout)
            XCTAssertTrue(r.stdout.contains(average ? "bit-plane average" : "bit-plane majority"), r.stdout)
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
                    let vote: Float = average ? Float(sum) / Float(ranks) : (sum > 0 ? 1 : (sum < 0 ? -1 : 0))
                    if sum == 0 { ties += 1 }
                    p[i] = p[i] * (decays(i) ? decay : 1) - lr * vote
                }
            }
            let differing = (0..<count).filter { trained[$0].bitPattern != p[$0].bitPattern }
            XCTAssertEqual(differing.count, 0, "W=\(ranks): \(differing.count) parameters differ from the simulation, first at \(differing.first ?? -1)")
            XCTAssertGreaterThan((0..<count).filter { trained[$0] != initial[$0] }.count, count / 2, "W=\(ranks): training should move most parameters")
            return (ties, zeroSignals)
        }
    }

    /// lion-dist's own error lines (mpirun adds its banner after a failure).
    func ourLines(_ r: Launcher.Result) -> [String] {
        r.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("error") || $0.hasPrefix("Error") }
    }

    func assertOneLine(_ r: Launcher.Result, _ needles: [String], _ what: String) {
        XCTAssertNotEqual(r.status, 0, "\(what) should fail")
        let lines = ourLines(r)
        XCTAssertEqual(lines.count, 1, "\(what): expected one error line, got \(lines)\n\(r.stderr)")
        for needle in needles { XCTAssertTrue(lines.first?.contains(needle) ?? false, "\(what): no '\(needle)' in \(lines)") }
    }

    /// The settings validate() refuses before MPI starts (AdamW, bf16 state, --shard params,
    /// --vote without sign-vote) are CLITests'; a batch that does not split is refused after.
    func testRefusedSettingsSayWhyInOneLine() throws {
        let base = ["--comm", "sign-vote", "--hidden", "37", "--max-steps", "2", "--threads", "1"]
        assertOneLine(try Launcher.run(ranks: 4, base + ["--batch-size", "50"]), ["48 or 52"], "W=4 --batch-size 50")
    }

    /// A checkpoint keeps every rank's momentum: resuming at the same W continues bit for bit;
    /// another W, or another --comm, is refused with one line.
    func testCheckpointKeepsEveryRanksMomentum() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = common.map { $0 == "\(steps)" ? "8" : $0 }
        let whole = try Launcher.run(ranks: 3, base + ["--save-params", dir.path + "/whole.f32"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let flags = base + ["--checkpoint", dir.path + "/ckpt", "--checkpoint-every", "4"]
        let first = try Launcher.run(ranks: 3, flags, env: ["LION_DIST_TEST_KILL": "0:step:6"])
        XCTAssertNotEqual(first.status, 0)
        let saved = dir.path + "/ckpt/ckpt-00000004.lion"
        XCTAssertTrue(FileManager.default.fileExists(atPath: saved))
        let info = try Launcher.run(ranks: nil, ["inspect", "--json", saved])
        XCTAssertTrue(info.stdout.contains("\"state_per_rank\":true"), info.stdout)
        XCTAssertTrue(info.stdout.contains("\"world_size\":3"), info.stdout)

        let resumed = try Launcher.run(ranks: 3, flags + ["--resume", "--save-params", dir.path + "/resumed.f32"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let a = try Launcher.readFloats(URL(fileURLWithPath: dir.path + "/whole.f32"))
        let b = try Launcher.readFloats(URL(fileURLWithPath: dir.path + "/resumed.f32"))
        XCTAssertEqual(a.count, count)
        XCTAssertEqual(zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count, 0, "the resumed run should match the whole run bit for bit")

        assertOneLine(try Launcher.run(ranks: 2, base + ["--resume-from", saved]),
                      ["holds the momentum of each of the 3 ranks", "this run has 2", "resume with 3 ranks"], "resume at W=2")
        assertOneLine(try Launcher.run(ranks: 3, base + ["--vote", "average", "--resume-from", saved]),
                      ["--vote majority, this run has average", "pass the same --vote"], "resume with --vote average")
        let sharded = base.map { $0 == "sign-vote" ? "reduce-scatter" : $0 }
        assertOneLine(try Launcher.run(ranks: 3, sharded + ["--resume-from", saved]),
                      ["--comm sign-vote", "pass the same --comm"], "resume with --comm reduce-scatter")
    }

    /// The plan (`lion-dist plan --comm sign-vote`, and the run's own table) states sign-vote's
    /// full momentum and buffers, and holds within 10% of the measured peak Pss.
    func testPlanStatesTheFullMomentum() throws {
        let flags = ["--comm", "sign-vote", "--hidden", "256", "--batch-size", "64", "--max-steps", "5", "--threads", "1",
                     "--log-interval", "1000"]
        let plan = try Launcher.run(ranks: nil, ["plan"] + flags + ["--ranks", "2"])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        XCTAssertTrue(plan.stdout.contains("--comm sign-vote --vote majority"), plan.stdout)
        // 784-256-10: 203,530 parameters, padded to 64 x 2 = 203,648: 795.50 KiB of fp32 momentum on every rank.
        XCTAssertTrue(plan.stdout.contains("optimizer state               795.50 KiB"), plan.stdout)
        let run = try Launcher.run(ranks: 2, flags)
        XCTAssertEqual(run.status, 0, run.stderr)
        let total = run.stdout.split(separator: "\n").first { $0.hasPrefix("total (measured: peak Pss)") }
        let numbers = total.map { $0.split(separator: " ").compactMap { Double($0) } } ?? []
        XCTAssertEqual(numbers.count, 2, run.stdout)
        if numbers.count == 2 { XCTAssertEqual(numbers[0], numbers[1], accuracy: numbers[1] * 0.1, "predicted vs measured peak Pss (MiB)") }
    }
}
