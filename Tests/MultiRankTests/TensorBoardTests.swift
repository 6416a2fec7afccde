import Foundation
import XCTest

/// `--tensorboard DIR`: PyPI tensorboard's EventAccumulator reads every scalar back with the
/// values `--metrics` wrote for the same steps; a resumed run adds a second file; a directory
/// that cannot be written warns and the run goes on.
final class TensorBoardTests: FaultTestCase {
    static let gpt = ["--model", "gpt", "--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--block-size", "16",
                      "--eval-batches", "1", "--eval-interval", "3", "--batch-size", "4", "--threads", "1",
                      "--no-memory-check", "--log-interval", "1e-9"]

    func testEventAccumulatorReadsTheScalarsMetricsWroteAcrossAResume() throws {
        let dir = try temporaryDirectory()
        let tb = dir.appendingPathComponent("tb"), ck = dir.appendingPathComponent("ck").path
        let metrics = dir.appendingPathComponent("metrics.jsonl")
        // Rank 1 kills itself after step 4; the checkpoint of step 3 (and the event file's flush at
        // the evaluation of step 3) is where the resumed run starts.
        let first = try Launcher.run(ranks: 2, Self.gpt + ["--steps", "6", "--checkpoint", ck, "--checkpoint-every", "3",
                                                           "--tensorboard", tb.path, "--metrics", metrics.path],
                                     env: ["LION_DIST_TEST_KILL": "1:step:4"])
        XCTAssertNotEqual(first.status, 0, first.stderr)
        let second = try Launcher.run(ranks: 2, Self.gpt + ["--steps", "6", "--checkpoint", ck, "--resume",
                                                            "--tensorboard", tb.path, "--metrics", metrics.path])
        XCTAssertEqual(second.status, 0, second.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: tb.path).sorted()
        XCTAssertEqual(files.count, 2, "\(files)")
        XCTAssertTrue(files.allSatisfy { $0.hasPrefix("events.out.tfevents.") }, "\(files)")
        let r = try PythonVenv.run(#"""
        import sys, json, math
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        ea = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
        ea.Reload()
        tags = set(ea.Tags()["scalars"])
        want = {"train/loss", "lr", "grad_norm", "tokens_per_s", "val/loss", "val/bits_per_char",
                "memory/peak_pss_mib/rank0", "memory/peak_pss_mib/rank1"}
        assert want <= tags, sorted(tags)
        got = {t: {e.step: e.value for e in ea.Scalars(t)} for t in tags}
        events = [json.loads(l) for l in open(sys.argv[2])]
        def close(a, b): return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
        # The resumed run's line of a step replaces the killed run's (as TensorBoard purges its orphans).
        steps = {e["step"]: e for e in events if e["event"] == "step"}
        assert sorted(steps) == [1, 2, 3, 4, 5, 6], sorted(steps)
        for s, e in steps.items():
            for tag, key in (("train/loss", "loss"), ("lr", "lr"), ("tokens_per_s", "tokens_per_s")):
                assert close(got[tag][s], e[key]), (tag, s, got[tag][s], e[key])
        assert sorted(got["train/loss"]) == [1, 2, 3, 4, 5, 6] and all(v > 0 for v in got["grad_norm"].values())
        evals = {e["step"]: e for e in events if e["event"] == "eval"}   # the resumed run evaluates step 3 again
        assert sorted(evals) == [3, 6], sorted(evals)
        for e in evals.values():
            assert close(got["val/loss"][e["step"]], e["val_loss"]) and close(got["val/bits_per_char"][e["step"]], e["bits_per_char"])
        assert sorted(got["memory/peak_pss_mib/rank1"]) == [6] and all(v > 1 for v in got["memory/peak_pss_mib/rank1"].values())
        print("tensorboard scalars match --metrics:", sorted(tags))
        """#, [tb.path, metrics.path], in: dir)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    }

    func testAnUnwritableDirectoryWarnsAndTrainingGoesOn() throws {
        let dir = try temporaryDirectory()
        let file = dir.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let bad = file.appendingPathComponent("tb").path
        let r = try Launcher.run(ranks: 2, Self.gpt + ["--steps", "3", "--tensorboard", bad])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning: --tensorboard: cannot create \(bad)/events.out.tfevents."), r.stderr)
        XCTAssertTrue(r.stderr.contains("training continues without the event file"), r.stderr)
        XCTAssertTrue(r.stdout.contains("done: val loss"), r.stdout)
    }
}
