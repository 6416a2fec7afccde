import Foundation
import XCTest

/// A run whose loss runs away with finite numbers stops with one line and a non-zero exit,
/// keeping the checkpoint from before (no save while the loss is above the bound, so `--keep`
/// prunes nothing good); the advice names what the run set.
final class DivergenceTests: FaultTestCase {
    /// A small GPT (one block, 32 wide), every step logged, deterministic at one thread per rank.
    static let gpt = ["--model", "gpt", "--n-layer", "1", "--n-embd", "32", "--n-head", "2", "--block-size", "16",
                      "--batch-size", "4", "--steps", "200", "--eval-interval", "50", "--eval-batches", "2",
                      "--threads", "1", "--log-interval", "1e-9"]

    /// "step N/200  loss X" lines: step -> loss.
    func losses(_ stdout: String) -> [Int: Double] {
        var out: [Int: Double] = [:]
        for line in stdout.split(separator: "\n") where line.hasPrefix("step ") {
            let w = line.split(separator: " ")
            if w.count > 3, let s = Int(w[1].split(separator: "/")[0]), w[2] == "loss", let l = Double(w[3]) { out[s] = l }
        }
        return out
    }

    func testLearningRateTenStopsWithTheDivergenceLineAndKeepsACheckpointFromBefore() throws {
        let dir = try temporaryDirectory().appendingPathComponent("ckpt")
        let r = try Launcher.run(ranks: 2, Self.gpt + ["--lr", "10", "--weight-decay", "0", "--clip-norm", "0", "--schedule", "constant",
                                                       "--checkpoint", dir.path, "--checkpoint-every", "2", "--keep", "2"])
        XCTAssertNotEqual(r.status, 0)
        let lines = errorLines(r)
        XCTAssertEqual(lines.count, 1, r.stderr)
        guard let line = lines.first else { return }
        XCTAssertTrue(line.hasPrefix("error: training diverged at step "), line)
        XCTAssertTrue(line.contains("for 10 consecutive steps"), line)
        XCTAssertTrue(line.contains("set --clip-norm (it is off"), "names what is set: \(line)")
        let loss = losses(r.stdout)
        guard let first = loss[1] else { return XCTFail("no step 1 line: \(r.stdout)") }
        guard let stopped = Int(line.split(separator: " ")[5].dropLast()) else { return XCTFail(line) }
        XCTAssertLessThan(stopped, 200, "stopped long before the end")
        // The run's last 10 steps were above 10 x step 1 (the last one stops before its progress
        // line), and no checkpoint holds any of them.
        for s in (stopped - 9)..<stopped { XCTAssertGreaterThan(loss[s] ?? 0, 10 * first, "step \(s)") }
        let files = try Self.fm.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".lion") }.sorted()
        guard let newest = files.last, let kept = Int(newest.dropFirst(5).dropLast(5)) else { return XCTFail("no checkpoint kept: \(files)") }
        XCTAssertLessThan(kept, stopped - 9, "the kept checkpoint is from before the divergence: \(files)")
        XCTAssertLessThanOrEqual(loss[kept] ?? .infinity, 10 * first, "checkpoint of step \(kept)")
        XCTAssertTrue(line.contains("the last checkpoint before it, \(dir.path)/\(newest), is kept"), line)
        XCTAssertEqual(try Launcher.run(ranks: nil, ["inspect", dir.appendingPathComponent(newest).path]).status, 0, "it verifies")
    }

    func testNaNGuardsAdviceSaysClippingIsAlreadyOn() throws {
        let r = try Launcher.run(ranks: 2, Self.gpt + ["--lr", "1e30", "--max-steps", "40"])
        XCTAssertNotEqual(r.status, 0)
        let lines = errorLines(r)
        XCTAssertEqual(lines.count, 1, r.stderr)
        XCTAssertTrue(lines.first?.contains("training diverged at step") ?? false, "\(lines)")
        XCTAssertTrue(lines.first?.contains("a lower --clip-norm (clipping is already on at 1.0)") ?? false, "\(lines)")
        XCTAssertFalse(lines.first?.contains("set --clip-norm") ?? true, "\(lines)")
    }
}
