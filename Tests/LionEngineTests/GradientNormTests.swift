import Basics
import XCTest
import LionEngine

final class GradientNormTests: XCTestCase {
    func testMatchesDoubleReferenceAndScales() {
        for n in [0, 1, 17, 100_003] {
            var rng = TestRandom(seed: UInt64(n) + 5)
            let g0 = rng.floats(n, scale: 3)
            let scale: Float = 0.125
            var ref = 0.0
            for x in g0 { let s = Double(x * scale); ref += s * s }
            var results: [Double] = []
            for threads in [1, 2] {
                var g = g0
                let got = scaleAndSumSquares(&g, count: n, scale: scale, pool: ThreadPool(threads: threads))
                XCTAssertEqual(got, ref, accuracy: max(ref, 1) * 1e-12, "n=\(n) threads=\(threads)")
                assertBitEqual(g, g0.map { $0 * scale }, "scaled in place")
                results.append(got)
            }
            XCTAssertEqual(results[0].bitPattern, results[1].bitPattern, "same result for 1 and 2 threads")
        }
    }

    func testNonFinitePropagates() {
        let pool = ThreadPool(threads: 2)
        let n = 70_000
        for (bad, expectNaN) in [(Float.nan, true), (Float.infinity, false), (-Float.infinity, false)] {
            for at in [3, 40_000, n - 1] {
                var g = [Float](repeating: 1, count: n)
                g[at] = bad
                let s = scaleAndSumSquares(&g, count: n, scale: 0.5, pool: pool)
                XCTAssertFalse(s.isFinite, "\(bad) at \(at)")
                XCTAssertEqual(s.isNaN, expectNaN)
            }
        }
        var huge = [Float](repeating: .greatestFiniteMagnitude, count: 9)
        XCTAssertTrue(scaleAndSumSquares(&huge, count: 9, scale: 1, pool: pool).isFinite, "Double does not overflow")
    }
}
