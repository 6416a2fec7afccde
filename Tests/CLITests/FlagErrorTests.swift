import ArgumentParser
import Foundation
import XCTest
@testable import lion_dist

/// Flag errors that ArgumentParser or a command's `validate()` raises before MPI starts, checked
/// through the CLI's own parse in this process (milliseconds, no binary, no mpirun): the message
/// names the flag and the fix, fits on one line, and the exit code is not 0. That every rank
/// prints it once under mpirun and exits non-zero is BadInputTests' (MultiRankTests), with a real
/// launch of one such flag.
final class FlagErrorTests: XCTestCase {
    /// What `lion-dist ARGS` would print after "error: " and the code it exits with; nil when
    /// the arguments parse and validate.
    func refusal(_ args: [String]) -> (message: String, code: Int32)? {
        do {
            _ = try LionDist.parseAsRoot(args)
            return nil
        } catch {
            return (LionDist.message(for: error), LionDist.exitCode(for: error).rawValue)
        }
    }

    func assertRefused(_ cases: [([String], String)], file: StaticString = #filePath, line: UInt = #line) {
        for (args, needle) in cases {
            guard let r = refusal(args) else {
                XCTFail("\(args) should be refused", file: file, line: line)
                continue
            }
            XCTAssertNotEqual(r.code, 0, "\(args)", file: file, line: line)
            XCTAssertFalse(r.message.contains("\n"), "\(args): one line, got \(r.message)", file: file, line: line)
            XCTAssertTrue(r.message.contains(needle), "\(args): expected '\(needle)' in '\(r.message)'", file: file, line: line)
        }
    }

    /// The control: the same parse accepts good flags (so a refusal above is the flag's, not the helper's).
    func testGoodFlagsParseToTheirCommand() throws {
        XCTAssertNil(refusal(["--lr", "1e-3", "--epochs", "1"]))
        XCTAssertTrue(try LionDist.parseAsRoot(["--lr", "1e-3"]) is TrainCommand)
        XCTAssertTrue(try LionDist.parseAsRoot(["sweep", "--out", "/tmp/x", "--lrs", "1e-3,3e-3"]) is SweepCommand)
        XCTAssertTrue(try LionDist.parseAsRoot(["bench", "gpt", "--steps", "2"]) is BenchGPTCommand)
        let train = try XCTUnwrap(try LionDist.parseAsRoot(["--beta2", "0.95", "--hidden", "12,4"]) as? TrainCommand)
        XCTAssertEqual(train.optimizerConfig().beta2, 0.95)
        XCTAssertEqual(try train.hiddenWidths(), [12, 4])
    }

    func testBadTrainFlagValues() {
        assertRefused([
            (["--beta2", "1.5"], "--beta2"),
            (["--lr", "-1"], "--lr must be > 0"),
            (["--epochs", "-1"], "--epochs must be at least 1"),
            (["--lr", "--epochs", "3"], "'--lr <lr>'"),
            (["--weight-decay", "-0.1"], "--weight-decay"),
            (["--hidden", "12,,4"], "--hidden"),
            (["--optimizer", "sgd"], "sgd"),
            (["--epochs", "0"], "--epochs"),
            (["--batch-size", "64", "--batch-per-rank", "32"], "pass one of them"),
            (["--comm", "ring"], "--comm"),
            (["--bucket-mb", "0"], "--bucket-mb must be > 0"),
            (["--stall-timeout", "-1"], "--stall-timeout must be a finite number of seconds >= 0"),
            (["--stall-timeout", "inf"], "--stall-timeout must be a finite number of seconds >= 0"),
            (["--stall-timeout", "nan"], "--stall-timeout must be a finite number of seconds >= 0"),
        ])
    }

    func testShardAndCommCombinations() {
        assertRefused([
            (["--comm", "allreduce", "--shard", "params"], "--shard params needs --comm reduce-scatter"),
            (["--comm", "allreduce", "--shard", "gradients-and-params"], "--shard gradients-and-params needs --comm reduce-scatter"),
            (["--shard", "gradients"], "--shard"),
        ])
    }

    func testCautiousFactorCombinations() {
        let base = ["--hidden", "37", "--batch-size", "48", "--max-steps", "40"]
        assertRefused([
            (base + ["--optimizer", "adamw", "--cautious-factor", "0.5"], "--cautious-factor is cautious Lion's"),
            (base + ["--comm", "sign-vote", "--cautious-factor", "0"], "drop --cautious-factor, or use --comm reduce-scatter"),
            (base + ["--cautious-factor", "1.5"], "--cautious-factor must be in [0, 1], got 1.5"),
            (base + ["--cautious-factor", "-0.1"], "--cautious-factor must be in [0, 1]"),
        ])
    }

    func testSignVoteSettings() {
        let base = ["--comm", "sign-vote", "--hidden", "37", "--max-steps", "2", "--threads", "1"]
        assertRefused([
            (base + ["--optimizer", "adamw"], "AdamW's update is not a sign: use --optimizer lion"),
            (base + ["--state-dtype", "bf16"], "fp32 momentum (its voter kernel reads fp32); drop --state-dtype bf16"),
            (base + ["--shard", "params"], "private parameter copy per rank (and a full gradient); drop --shard params"),
            (base + ["--comm", "reduce-scatter", "--vote", "average"], "--vote is sign-vote's rule; pass --comm sign-vote"),
        ])
    }

    func testBadGPTShape() {
        assertRefused([(["--model", "gpt", "--n-layer", "2", "--n-embd", "30", "--n-head", "4"],
                        "--n-embd 30 must be a positive multiple of --n-head 4")])
    }

    /// `--compute-dtype` is auto unless pinned; the MLP takes auto and fp32, refuses bf16.
    func testComputeDTypeDefaultsToAutoAndIsTheGPTs() throws {
        let gpt = try XCTUnwrap(try LionDist.parseAsRoot(["--model", "gpt"]) as? TrainCommand)
        XCTAssertEqual(gpt.gpt.computeDtype.rawValue, "auto")
        let pinned = try XCTUnwrap(try LionDist.parseAsRoot(["--model", "gpt", "--compute-dtype", "fp32"]) as? TrainCommand)
        XCTAssertEqual(pinned.gpt.computeDtype.rawValue, "fp32")
        XCTAssertNil(refusal(["--compute-dtype", "fp32"]))
        XCTAssertNil(refusal(["--compute-dtype", "auto"]))
        // (Where bf16 would be emulated, that refusal comes first; it names bf16 too.)
        assertRefused([(["--compute-dtype", "bf16"], "bf16"),
                       (["--model", "gpt", "--compute-dtype", "fp16"], "fp16")])
    }

    /// A refused sweep creates nothing: `validate()` runs before `run()` makes --out.
    func testSweepRefusesEmptyAndRepeatedListItems() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("lion-dist-sweep-\(UUID().uuidString)").path
        assertRefused([
            (["--batch-sizes", "64,,128"], "--batch-sizes must be positive integers"),
            (["--batch-sizes", "64,64"], "--batch-sizes lists 64 twice"),
            (["--lrs", "1e-3,0.001"], "--lrs lists 0.001 twice"),
            (["--optimizers", "lion,lion"], "--optimizers lists lion twice"),
            (["--lion-wds", "-1"], "--lion-wds must be non-negative"),
        ].map { (["sweep", "--out", out] + $0.0, $0.1) })
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a refused sweep must not create its --out")
    }

    func testSampleAndBenchRefusals() {
        assertRefused([
            (["sample", "--checkpoint", "/nonexistent", "--temperature", "inf"], "--temperature must be a finite number > 0, got inf"),
            (["bench", "gpt", "--threads", "0"], "--threads must be >= 1"),
            (["bench", "gpt", "--steps", "0"], "--steps must be >= 1"),
            (["bench", "gpt", "--n-head", "3"], "must be a positive multiple of --n-head 3"),
        ])
    }
}
