import Foundation
import XCTest

/// The final parameters (`--save-params`) and stdout of a short run of the MLP 784-37-10,
/// launched once per test process for each rank count, flags and mpirun prefix. Rank invariance,
/// reduce-scatter against allreduce, overlap and shared against private parameters compare the
/// same runs against different references: each test asserts on its own reference, the run is
/// paid for once. 29,425 parameters (5^2 * 11 * 107), which neither 2, 3 nor 4 divides, so
/// every W > 1 pads its last shard.
enum TrainedParameters {
    /// Lion at a constant learning rate, 12 steps of a global batch 48 (MemoryLayoutTests,
    /// CommTests, RankInvarianceTests).
    static let common = ["--hidden", "37", "--batch-size", "48", "--max-steps", "12", "--seed", "7", "--threads", "1",
                         "--schedule", "constant", "--warmup-steps", "0", "--log-interval", "1000"]
    static let count = 29_425

    struct Run {
        let params: [Float]
        let stdout: String
    }

    nonisolated(unsafe) private static var runs: [String: Run] = [:]

    /// `extra` follows `common` (a later value of a flag wins); the key sorts flag-value pairs,
    /// so the same flags in another order are the same run.
    static func run(ranks: Int, _ extra: [String], prefix: [String] = []) throws -> Run {
        let key = "\(ranks) \(pairs(extra).sorted().joined(separator: " ")) | \(prefix.joined(separator: " "))"
        if let done = runs[key] { return done }
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("params.f32")
        let r = try Launcher.run(ranks: ranks, common + extra + ["--save-params", out.path], mpirunPrefix: prefix)
        guard r.status == 0 else { throw TestFailure("W=\(ranks) \(extra) failed (\(r.status)): \(r.stderr)") }
        let run = Run(params: try Launcher.readFloats(out), stdout: r.stdout)
        guard run.params.count == count else { throw TestFailure("W=\(ranks) \(extra): \(run.params.count) parameters, expected \(count)") }
        runs[key] = run
        return run
    }

    /// The parameters, after checking that stdout names the plan the run should have chosen.
    static func params(ranks: Int, _ extra: [String], prefix: [String] = [], expect: String? = nil,
                       file: StaticString = #filePath, line: UInt = #line) throws -> [Float] {
        let r = try run(ranks: ranks, extra, prefix: prefix)
        if let expect {
            XCTAssertTrue(r.stdout.contains(expect), "W=\(ranks) \(extra): expected '\(expect)' in:\n\(r.stdout)", file: file, line: line)
        }
        return r.params
    }

    /// The parameters as initialized, to within the run's lr of 1e-30 (a bias at 0 moves to -1e-30).
    static func initial() throws -> [Float] { try params(ranks: 1, ["--lr", "1e-30"]) }

    /// "--flag value" (or a lone "--flag") per element.
    static func pairs(_ args: [String]) -> [String] {
        var out: [String] = []
        for a in args {
            if a.hasPrefix("--") || out.isEmpty { out.append(a) } else { out[out.count - 1] += " " + a }
        }
        return out
    }
}
