import Foundation
import XCTest

/// Examples/Spiral: a 2-64-3 ReLU classifier written only with the public layers and sampler,
/// trained by the Trainer with Lion at W = 2, classifies >= 99% of the held-out points.
final class SpiralExampleTests: XCTestCase {
    func testSpiralClassifierReachesNinetyNinePercentAtTwoRanks() throws {
        let exe = try ExampleBuild.build("Spiral")
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let metrics = dir.appendingPathComponent("run.jsonl")
        let r = try Launcher.run(ranks: 2, ["--metrics", metrics.path], executable: exe)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("model: spiral, 387 parameters"), r.stdout)
        let summary = try Launcher.readMetrics(metrics).last!
        XCTAssertEqual(summary["event"] as? String, "summary")
        XCTAssertGreaterThanOrEqual(summary["eval_accuracy"] as! Double, 0.99, r.stdout)
    }
}
