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

    /// Each GELU kernel on `x`, in the body `avx512` says: (gelu, slope of the fused forward,
    /// gelu of the fused forward, dout * gelu'(x), dout * slope).
    func geluKernels(_ x: [Float], _ dout: [Float], avx512: Bool) -> [[Float]] {
        let saved = kernelsUseAVX512
        kernelsUseAVX512 = avx512
        defer { kernelsUseAVX512 = saved }
        let n = x.count
        var out = [Float](repeating: .nan, count: n), fused = out, dx = out, dxSlope = out
        var slope = x   // in place, as the GPT's backward
        geluForward(out: &out, x: x, count: n)
        geluForward(out: &fused, slope: &slope, x: x, count: n)
        geluBackward(dx: &dx, x: x, dout: dout, count: n)
        geluBackward(dx: &dxSlope, dout: dout, slope: slope, count: n)
        return [out, slope, fused, dx, dxSlope]
    }

    /// The AVX-512 bodies (where the CPU has them) are bitwise equal to the SIMD8 bodies, element
    /// by element, on sizes with ragged tails; the fused forward's gelu equals geluForward's, and
    /// its slope is gelu'(x) against Double (as is geluBackward's).
    func testGELUKernelsAgreeAndMatchDouble() {
        var r = TestRandom(seed: 21)
        for n in [1, 15, 16, 17, 100, 5000, 9000] {
            let x = r.floats(n, -9, 9), dout = r.floats(n)
            let simd8 = geluKernels(x, dout, avx512: false)
            if cpuHasAVX512 {
                let avx = geluKernels(x, dout, avx512: true)
                for (k, name) in ["gelu", "slope", "fused gelu", "dx", "dx from slope"].enumerated() {
                    for i in 0..<n where avx[k][i].bitPattern != simd8[k][i].bitPattern {
                        XCTFail("\(name) n \(n) at \(i): AVX-512 \(avx[k][i]) SIMD8 \(simd8[k][i])"); break
                    }
                }
            }
            XCTAssertEqual(simd8[2], simd8[0], "fused gelu n \(n)")
            let u = { (v: Double) in (2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v) }
            for i in 0..<n {
                let v = Double(x[i]), t = tanh(u(v))
                let grad = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * (2 / Double.pi).squareRoot() * (1 + 3 * 0.044715 * v * v)
                XCTAssertEqual(Double(simd8[0][i]), 0.5 * v * (1 + t), accuracy: 4e-6, "gelu(\(v))")
                // fastTanh's 3.7e-7 near +-1 grows to ~4e-6 through 0.5 x (1 - t^2) at |x| ~ 5.
                XCTAssertEqual(Double(simd8[1][i]), grad, accuracy: 1e-5, "slope(\(v))")
                XCTAssertEqual(Double(simd8[3][i]), Double(dout[i]) * grad, accuracy: 1e-5, "dx(\(v))")
                XCTAssertEqual(simd8[4][i], dout[i] * simd8[1][i], "dx from slope at \(i)")
            }
        }
    }

    /// The attention's softmax rows: AVX-512 (where the CPU has it) against SIMD8, element by
    /// element: the same max and exponentials bitwise, zeros past n, sums within rounding.
    func testSoftmaxRowKernelsAgree() throws {
        guard cpuHasAVX512 else { throw XCTSkip("no AVX-512 on this CPU: only the SIMD8 bodies run") }
        var r = TestRandom(seed: 31)
        defer { kernelsUseAVX512 = cpuHasAVX512 }
        for n in [1, 7, 8, 15, 16, 17, 33, 64, 100] {
            let row = r.floats(n + 5, -30, 10)
            var results: [(Float, [Float], Float)] = []
            for avx in [false, true] {
                kernelsUseAVX512 = avx
                var out = row
                let m = rowMax(out, n)
                let sum = expRow(&out, n, minus: m, width: n + 3)
                results.append((m, out, sum))
            }
            let (simd8, avx) = (results[0], results[1])
            XCTAssertEqual(avx.0, simd8.0, "max n \(n)")
            XCTAssertEqual(avx.1, simd8.1, "exponentials n \(n)")
            XCTAssertTrue(avx.1[n..<(n + 3)].allSatisfy { $0 == 0 } && avx.1[(n + 3)...] == row[(n + 3)...], "past n, n \(n)")
            XCTAssertEqual(avx.2, simd8.2, accuracy: 1e-6 * simd8.2, "sum n \(n)")
        }
    }
}
