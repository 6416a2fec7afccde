import Foundation
import XCTest

/// The two packages in Examples/, built against the `LionDist` library product (by path, as a
/// user would) and run under mpirun: the direct-loop example gives the same parameters, bit for
/// bit, at W = 1 and W = 2 and its loss falls; the trainer example trains a model of its own.
final class ExamplesTests: XCTestCase {
    /// "step N loss X" lines of the direct-loop example, in order.
    func losses(_ stdout: String) -> [Double] {
        stdout.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            return words.count == 4 && words[0] == "step" && words[2] == "loss" ? Double(words[3]) : nil
        }
    }

    func testDirectLoopIsBitwiseTheSameAtOneAndTwoRanksAndLearns() throws {
        let exe = try ExampleBuild.build("LinearRegression")
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // 50 steps: still on the way (by ~150 steps every run sits exactly on the solution,
        // whatever its gradients were, so equal end points would prove little).
        var params: [[UInt32]] = [], trajectories: [[Double]] = []
        for (ranks, comm) in [(1, "allreduce"), (2, "allreduce"), (2, "reduce-scatter")] {
            let out = dir.appendingPathComponent("w\(ranks)-\(comm).f32")
            let r = try Launcher.run(ranks: ranks, ["--steps", "50", "--comm", comm, "--out", out.path], executable: exe)
            XCTAssertEqual(r.status, 0, "W=\(ranks) \(comm): \(r.stderr)")
            trajectories.append(losses(r.stdout))
            let p = try Launcher.readFloats(out)
            XCTAssertEqual(p.count, 9)
            params.append(p.map(\.bitPattern))
        }
        XCTAssertEqual(trajectories[0].count, 4)
        XCTAssertEqual(trajectories[0], trajectories[1], "W=2 allreduce: another loss trajectory than W=1")
        XCTAssertEqual(trajectories[0], trajectories[2], "W=2 reduce-scatter: another loss trajectory than W=1")
        XCTAssertEqual(params[0], params[1], "W=2 allreduce: other parameters than W=1")
        XCTAssertEqual(params[0], params[2], "W=2 reduce-scatter: other parameters than W=1")
        XCTAssertNotEqual(params[0], [UInt32](repeating: 0, count: 9), "the parameters never moved")
        // And it learns: 200 steps take the loss down by more than 100x.
        let r = try Launcher.run(ranks: 2, ["--steps", "200"], executable: exe)
        XCTAssertEqual(r.status, 0, r.stderr)
        let loss = losses(r.stdout)
        guard loss.count > 3 else { return XCTFail("no loss lines in \(r.stdout)") }
        XCTAssertLessThan(loss.last!, loss.first! / 100, "the loss should fall: \(loss)")
    }

    func testOwnWorkloadTrainsThroughTheTrainer() throws {
        let exe = try ExampleBuild.build("CustomWorkload")
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let metrics = dir.appendingPathComponent("run.jsonl")
        let r = try Launcher.run(ranks: 2, ["--epochs", "4", "--metrics", metrics.path,
                                            "--checkpoint", dir.appendingPathComponent("ckpt").path], executable: exe)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("lion-dist: 2 rank(s)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("model: clusters, 9 parameters"), r.stdout)
        let events = try Launcher.readMetrics(metrics)
        let epochs = events.filter { $0["event"] as? String == "epoch" }
        XCTAssertEqual(epochs.count, 4)
        let first = epochs.first!["eval_loss"] as! Double, last = epochs.last!["eval_loss"] as! Double
        XCTAssertLessThan(last, first * 0.8, "eval loss should fall: \(first) -> \(last)")
        let summary = events.last!
        XCTAssertEqual(summary["event"] as? String, "summary")
        XCTAssertGreaterThan(summary["eval_accuracy"] as! Double, 0.9)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("ckpt").path)
        XCTAssertTrue(files.contains { $0.hasSuffix(".lion") }, "no checkpoint written: \(files)")
    }

    /// A `Workload` of the user's own that throws on rank 1 only: every rank ends, with rank 1's
    /// message, instead of rank 0 waiting in the combine and rank 1 in MPI_Win_free (the
    /// timeout, 60 s against ~3 s for the run, catches a hang).
    func testWorkloadThrowingOnOneRankEndsEveryRankWithItsMessage() throws {
        let exe = try ExampleBuild.build("CustomWorkload")
        let r = try Launcher.run(ranks: 2, ["--epochs", "4", "--fail-on-rank", "1"], executable: exe, timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error") }
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(lines.first?.hasPrefix("error (rank 1 of 2 on ") ?? false, "\(lines)")
        XCTAssertTrue(lines.first?.contains("rank 1 cannot read its shard of the data (--fail-on-rank); ending every rank (MPI_Abort)") ?? false,
                      "\(lines)")
        XCTAssertFalse(r.stdout.contains("final eval accuracy"), r.stdout)
    }
}
