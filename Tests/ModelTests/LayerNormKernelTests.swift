import XCTest
@testable import Model

/// The LayerNorm bodies, SIMD8 and (where the CPU has it) AVX-512, element by element against a
/// Double reference written from the formulas, on C a multiple of 16, of 8 but not 16, and odd
/// (the vector tails), N = 1 and more rows than the backward's blocks. Tolerances, stated: out
/// and dx within 4e-6 (|out| < 5, |dx| < 10 here); mean and rstd within 1e-6 relative; dw, a sum
/// over N rows, within 1e-6 of the sum of its terms' magnitudes (sum_n |dout * xhat|).
final class LayerNormKernelTests: XCTestCase {
    override func setUp() { ComputeThreads.set(1) }
    override func tearDown() {
        kernelsUseAVX512 = cpuHasAVX512
        ComputeThreads.set(1)
    }

    struct Case {
        let N: Int, C: Int
        let x: [Float], w: [Float], dout: [Float], base: [Float]
        init(N: Int, C: Int, seed: UInt64) {
            var r = TestRandom(seed: seed)
            (self.N, self.C) = (N, C)
            (x, w, dout, base) = (r.floats(N * C, -2, 3), r.floats(C, 0.5, 1.5), r.floats(N * C), r.floats(N * C))
        }
    }

    /// (out, mean, rstd, dx, dw) from the Float kernels, dx accumulated onto `base`.
    func run(_ k: Case) -> [[Float]] {
        var out = [Float](repeating: .nan, count: k.N * k.C)
        var mean = [Float](repeating: .nan, count: k.N), rstd = mean
        layerNormForward(out: &out, mean: &mean, rstd: &rstd, x: k.x, w: k.w, N: k.N, C: k.C)
        var dx = k.base, dw = [Float](repeating: .nan, count: k.C)
        layerNormBackward(dx: &dx, dw: &dw, dout: k.dout, x: k.x, w: k.w, mean: mean, rstd: rstd, N: k.N, C: k.C)
        return [out, mean, rstd, dx, dw]
    }

    /// The same in Double: (out, mean, rstd, dx, dw, sum_n |dout * xhat| per column).
    func reference(_ k: Case) -> [[Double]] {
        let (N, C) = (k.N, k.C)
        var out = [Double](repeating: 0, count: N * C), dx = out
        var mean = [Double](repeating: 0, count: N), rstd = mean
        var dw = [Double](repeating: 0, count: C), scale = dw
        for n in 0..<N {
            let x = (0..<C).map { Double(k.x[n * C + $0]) }, d = (0..<C).map { Double(k.dout[n * C + $0]) }
            let w = k.w.map(Double.init)
            let m = x.reduce(0, +) / Double(C)
            let s = 1 / (x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(C) + 1e-5).squareRoot()
            let xhat = x.map { ($0 - m) * s }
            let g = (0..<C).map { d[$0] * w[$0] }
            let gMean = g.reduce(0, +) / Double(C)
            let gxMean = (0..<C).reduce(0) { $0 + g[$1] * xhat[$1] } / Double(C)
            for c in 0..<C {
                out[n * C + c] = xhat[c] * w[c]
                dx[n * C + c] = Double(k.base[n * C + c]) + s * (g[c] - gMean - xhat[c] * gxMean)
                dw[c] += d[c] * xhat[c]
                scale[c] += abs(d[c] * xhat[c])
            }
            (mean[n], rstd[n]) = (m, s)
        }
        return [out, mean, rstd, dx, dw, scale]
    }

    func check(_ got: [[Float]], _ want: [[Double]], _ what: String) {
        let names = ["out", "mean", "rstd", "dx", "dw"]
        for (i, name) in names.enumerated() {
            XCTAssertEqual(got[i].count, want[i].count, "\(what) \(name)")
            for j in got[i].indices {
                let tolerance = switch name {
                case "out", "dx": 4e-6
                case "mean", "rstd": 1e-6 * max(1, abs(want[i][j]))
                default: 1e-6 * max(1, want[5][j])
                }
                if abs(Double(got[i][j]) - want[i][j]) > tolerance {
                    XCTFail("\(what) \(name)[\(j)]: \(got[i][j]) against \(want[i][j]) (tolerance \(tolerance))"); break
                }
            }
        }
    }

    func testBodiesMatchDouble() {
        var seed: UInt64 = 40
        for C in [128, 16, 24, 8, 21, 7, 131] {
            for N in [1, 5, 70] {
                seed += 1
                let k = Case(N: N, C: C, seed: seed)
                let want = reference(k)
                forEachKernelBody { avx in
                    check(run(k), want, "\(avx ? "AVX-512" : "SIMD8") N \(N) C \(C)")
                }
            }
        }
    }

    /// Both bodies give the same bits at 1 and 2 threads (70 rows: 32 blocks of 2 or 3 rows,
    /// 16 per thread), forward and backward.
    func testBodiesDoNotDependOnThreads() {
        for C in [128, 21] {
            let k = Case(N: 70, C: C, seed: 60 + UInt64(C))
            forEachKernelBody { avx in
                var results: [[[Float]]] = []
                for threads in [1, 2] {
                    ComputeThreads.set(threads)
                    results.append(run(k))
                }
                for (a, b) in zip(results[0], results[1]) {
                    XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "\(avx ? "AVX-512" : "SIMD8") C \(C)")
                }
            }
        }
    }
}
