import Foundation
import XCTest

/// `--clip-norm` and the warm-up cap, end to end through the real binary.
final class ScheduleAndClipTests: XCTestCase {
    let common = ["--hidden", "37", "--batch-size", "48", "--max-steps", "10", "--seed", "7", "--threads", "1",
                  "--log-interval", "1000"]

    func finalParams(ranks: Int, _ extra: [String], expect: String? = nil) throws -> [Float] {
        let dir = try Launcher.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("params.f32")
        let r = try Launcher.run(ranks: ranks, common + extra + ["--save-params", out.path])
        XCTAssertEqual(r.status, 0, "W=\(ranks) \(extra) failed: \(r.stderr)")
        if let expect { XCTAssertTrue(r.stdout.contains(expect), "W=\(ranks) \(extra): expected '\(expect)' in:\n\(r.stdout)") }
        return try Launcher.readFloats(out)
    }

    func differing(_ a: [Float], _ b: [Float]) -> Int {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
    }

    /// A clip far above the gradient norm changes nothing; a tiny one rescales every step by a
    /// different factor, which changes AdamW's trajectory; the clipped run is the same at W = 2
    /// as at W = 1 up to AdamW's rank tolerance (see RankInvarianceTests).
    func testClipNormEndToEnd() throws {
        let adamw = ["--optimizer", "adamw", "--schedule", "constant", "--warmup-steps", "0"]
        let free = try finalParams(ranks: 2, adamw)
        let loose = try finalParams(ranks: 2, adamw + ["--clip-norm", "1e9"], expect: "clip 1e+09")
        XCTAssertEqual(differing(free, loose), 0, "a clip above every norm must not change a bit")
        let tight = try finalParams(ranks: 2, adamw + ["--clip-norm", "1e-3"], expect: "clip 0.001")
        XCTAssertGreaterThan(differing(free, tight), free.count / 4, "a tiny clip must change the trajectory")
        let single = try finalParams(ranks: 1, adamw + ["--clip-norm", "1e-3"])
        let maxDiff = zip(single, tight).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(maxDiff, 1e-5, "clipped W=1 vs W=2")
    }

    /// `--warmup-steps` longer than half the run is capped at half: 100 over 10 steps is 5.
    func testWarmupIsCappedAtHalfTheRun() throws {
        let cosine = ["--schedule", "cosine"]
        let capped = try finalParams(ranks: 2, cosine + ["--warmup-steps", "100"], expect: "(warmup 5)")
        let five = try finalParams(ranks: 2, cosine + ["--warmup-steps", "5"], expect: "(warmup 5)")
        XCTAssertEqual(differing(capped, five), 0, "warm-up 100 capped to 5 must equal warm-up 5")
        let four = try finalParams(ranks: 2, cosine + ["--warmup-steps", "4"], expect: "(warmup 4)")
        XCTAssertGreaterThan(differing(five, four), 0, "the warm-up length must show in the parameters")
    }
}
