import Foundation
import XCTest

/// A NaN in one rank's gradient: every rank skips that step, the run counts and prints it,
/// the parameters stay finite; a run that keeps producing NaN stops with one clear line.
final class NonFiniteGradientTests: XCTestCase {
    let common = ["--hidden", "37", "--batch-size", "64", "--log-interval", "1000", "--threads", "1"]

    func run(fault: String?, maxSteps: Int, params: URL, metrics: URL, _ extra: [String] = []) throws -> Launcher.Result {
        try Launcher.run(ranks: 2, common + extra + ["--max-steps", "\(maxSteps)", "--save-params", params.path,
                                                     "--metrics", metrics.path],
                         env: fault.map { ["LION_DIST_FAULT_NAN": $0] } ?? [:])
    }

    func checkOneBadStepIsSkipped(_ extra: [String], expect: String) throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = dir.appendingPathComponent("p.f32"), m = dir.appendingPathComponent("m.jsonl")
        let r = try run(fault: "3:1", maxSteps: 6, params: p, metrics: m, extra)
        XCTAssertEqual(r.status, 0, "\(extra): \(r.stderr)")
        XCTAssertTrue(r.stdout.contains(expect), "\(extra): expected '\(expect)' in:\n\(r.stdout)")
        XCTAssertTrue(r.stdout.contains("step 4: non-finite gradient"), "\(extra): \(r.stdout)")
        XCTAssertTrue(r.stdout.contains("skipped 1 step(s)"), "\(extra): \(r.stdout)")
        let summary = try XCTUnwrap(Launcher.readMetrics(m).last)
        XCTAssertEqual(summary["skipped_steps"] as? Int, 1, "\(extra)")
        XCTAssertTrue(try Launcher.readFloats(p).allSatisfy(\.isFinite), "\(extra)")

        let clean = dir.appendingPathComponent("clean.f32")
        XCTAssertEqual(try run(fault: nil, maxSteps: 6, params: clean, metrics: m, extra).status, 0)
        XCTAssertNotEqual(try Launcher.readFloats(clean), try Launcher.readFloats(p),
                          "\(extra): the skipped step must leave a trace: one update fewer than the clean run")
    }

    func testOneBadStepIsSkippedOnEveryRank() throws {
        try checkOneBadStepIsSkipped([], expect: "reduce-scatter (shared memory, 1 node)")
    }

    /// The same on the allreduce path, and with two overlapped buckets on both paths: the NaN
    /// is in the last bucket backward finishes, whose reduction starts before the combine.
    func testBadStepIsSkippedOnAllreduceAndOverlappedBuckets() throws {
        try checkOneBadStepIsSkipped(["--comm", "allreduce"], expect: "allreduce (MPI_Allreduce)")
        try checkOneBadStepIsSkipped(["--comm", "allreduce", "--bucket-mb", "0.001"], expect: "MPI_Iallreduce per bucket, 2 buckets")
        try checkOneBadStepIsSkipped(["--comm", "reduce-scatter", "--bucket-mb", "0.001"], expect: "2 buckets overlapped")
    }

    /// Sharded gradients (a GPT with small buckets): the NaN lands in a staging slot and is
    /// summed into its owner's reduced shard at that bucket's hand-off.
    func testBadStepIsSkippedWithShardedGradients() throws {
        try checkOneBadStepIsSkipped(["--model", "gpt", "--n-layer", "4", "--n-embd", "64", "--n-head", "4", "--block-size", "64",
                                      "--batch-size", "12", "--steps", "6", "--eval-interval", "6", "--eval-batches", "1",
                                      "--bucket-mb", "0.1"],
                                     expect: "gradients sharded (3 staging slots")
    }

    func testPersistentNaNStopsEveryRankWithOneLine() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = dir.appendingPathComponent("p.f32"), m = dir.appendingPathComponent("m.jsonl")
        let r = try run(fault: "2+:0", maxSteps: 40, params: p, metrics: m)
        XCTAssertNotEqual(r.status, 0)
        let ours = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error") }
        XCTAssertEqual(ours.count, 1, r.stderr)
        XCTAssertTrue(ours.first?.contains("training diverged") ?? false, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: p.path), "no parameters are written by a diverged run")
    }
}
