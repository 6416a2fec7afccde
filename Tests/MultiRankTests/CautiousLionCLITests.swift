import Foundation
import XCTest

/// `--cautious-factor` on the command line at W = 2 (refused with AdamW, with `--comm sign-vote`
/// and outside [0, 1] by validate(): CLITests): recorded in checkpoints (a resume with another factor
/// is refused, one with the same continues exactly); the masked fraction in the metrics.
final class CautiousLionCLITests: XCTestCase {
    let base = ["--hidden", "37", "--batch-size", "48", "--max-steps", "40", "--threads", "1", "--seed", "7", "--log-interval", "1000"]

    func errorLines(_ r: Launcher.Result) -> [String] {
        r.stderr.split(separator: "\n").map(String.init).filter { $0.hasPrefix("error") }
    }

    func testCheckpointKeepsTheFactorAndResumesExactly() throws {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("ckpt"), metrics = dir.appendingPathComponent("run.jsonl")
        let full = dir.appendingPathComponent("full.f32"), resumed = dir.appendingPathComponent("resumed.f32")
        let flags = base + ["--cautious-factor", "0", "--checkpoint", ckpt.path, "--checkpoint-every", "20", "--keep", "5"]
        let r = try Launcher.run(ranks: 2, flags + ["--save-params", full.path, "--metrics", metrics.path, "--log-interval", "0.001"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("cautious factor 0.0"), r.stdout)
        let summaryLine = r.stdout.split(separator: "\n").first { $0.hasPrefix("cautious Lion (factor 0):") }
        XCTAssertNotNil(summaryLine, r.stdout)
        let masked = try Launcher.readMetrics(metrics).compactMap { $0["masked_fraction"] as? Double }
        XCTAssertFalse(masked.isEmpty, "step events should carry masked_fraction")
        XCTAssertTrue(masked.allSatisfy { $0 > 0 && $0 < 1 }, "\(masked)")

        let at20 = ckpt.appendingPathComponent("ckpt-00000020.lion")
        let other = try Launcher.run(ranks: 2, flags.map { $0 == "0" ? "0.5" : $0 } + ["--resume-from", at20.path])
        XCTAssertNotEqual(other.status, 0)
        let lines = errorLines(other)
        XCTAssertEqual(lines.count, 1, other.stderr)
        XCTAssertTrue(lines.first?.contains("was written with --cautious-factor 0.0, this run has 0.5; pass the same --cautious-factor") ?? false,
                      "\(lines)")

        let again = try Launcher.run(ranks: 2, flags + ["--resume-from", at20.path, "--save-params", resumed.path])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try Launcher.readFloats(resumed).map(\.bitPattern), try Launcher.readFloats(full).map(\.bitPattern),
                       "the resumed run should end where the uninterrupted one did")
    }
}
