import XCTest
@testable import Model

/// The SIMD exp and tanh against Double libm, element by element over dense grids, and the
/// GELU kernel's tails (partial vectors) against its whole-vector path.
final class GPTFastMathTests: XCTestCase {
    func grid(_ lo: Float, _ hi: Float, _ n: Int) -> [Float] { (0..<n).map { lo + (hi - lo) * Float($0) / Float(n - 1) } }

    func apply(_ f: (F8) -> F8, _ x: [Float]) -> [Float] {
        var out = [Float](repeating: .nan, count: x.count)
        var k = 0
        while k < x.count {
            var v = F8()
            for l in 0..<8 where k + l < x.count { v[l] = x[k + l] }
            let y = f(v)
            for l in 0..<8 where k + l < x.count { out[k + l] = y[l] }
            k += 8
        }
        return out
    }

    /// Relative error <= 3e-7 (~2.5 ulp) over the softmax range [-87, 0] and up to 88.
    func testExpMatchesLibm() {
        let x = grid(-87, 0, 100_003) + grid(0, 88, 10_007) + [-1e-8, 1e-8, 0.5, -0.5]
        let y = apply(fastExp, x)
        var worst = 0.0
        for (xi, yi) in zip(x, y) {
            let want = exp(Double(xi))
            let rel = abs(Double(yi) - want) / want
            worst = max(worst, rel)
            XCTAssertLessThanOrEqual(rel, 3e-7, "exp(\(xi)) = \(yi), want \(want)")
            if rel > 3e-7 { break }
        }
        print("fastExp worst relative error \(worst)")
        XCTAssertEqual(apply(fastExp, [-.infinity, -200])[0], apply(fastExp, [-87.3])[0], "clamped, finite")
        XCTAssertLessThan(apply(fastExp, [-.infinity])[0], 1e-37)
    }

    /// Absolute error <= 4e-7 (measured 3.7e-7, ~6 ulp of 1) everywhere, relative <= 1e-6 near 0 (where tanh x ~ x); +-1 beyond the clamp.
    func testTanhMatchesLibm() {
        let x = grid(-10, 10, 200_001) + [1e-6, -1e-6, 1e-3, 20, -20]
        let y = apply(fastTanh, x)
        var worst = 0.0, worstNearZero = 0.0
        for (xi, yi) in zip(x, y) {
            let want = tanh(Double(xi))
            let err = abs(Double(yi) - want)
            worst = max(worst, err)
            if abs(xi) < 0.1 && xi != 0 { worstNearZero = max(worstNearZero, err / abs(want)) }
        }
        print("fastTanh worst absolute error \(worst), relative near 0 \(worstNearZero)")
        XCTAssertLessThanOrEqual(worst, 4e-7)
        XCTAssertLessThanOrEqual(worstNearZero, 1e-6)
        XCTAssertEqual(apply(fastTanh, [0])[0], 0)
    }

    /// Tails (count % 8 != 0) go through the same vector code: every element equals the
    /// whole-vector result for the same input, and the output past count is untouched.
    func testGELUTailsMatchTheVectorPath() {
        var r = TestRandom(seed: 9)
        let x = r.floats(32, -4, 4)
        var full = [Float](repeating: .nan, count: 32)
        geluForward(out: &full, x: x, count: 32)
        for n in [1, 7, 9, 15, 31] {
            var out = [Float](repeating: .nan, count: 32)
            geluForward(out: &out, x: x, count: n)
            XCTAssertEqual(Array(out[0..<n]), Array(full[0..<n]), "count \(n)")
            XCTAssertTrue(out[n...].allSatisfy { $0.isNaN }, "count \(n) wrote past the end")
        }
    }
}
