import XCTest
@testable import Model

/// The models' `sgemm`: rows (or columns) of C split over the compute threads, each block one
/// single-threaded OpenBLAS call. Held element by element to a scalar triple loop (in Double),
/// for every transpose, leading dimensions wider than the rows, accumulate and alpha; and the
/// bits must not depend on the thread count (no element is summed across threads).
final class SGEMMTests: XCTestCase {
    override func tearDown() { ComputeThreads.set(1) }

    func reference(_ tA: Bool, _ tB: Bool, M: Int, N: Int, K: Int, alpha: Float, a: [Float], lda: Int,
                   b: [Float], ldb: Int, c: [Float], ldc: Int, accumulate: Bool) -> [Float] {
        var out = c
        for m in 0..<M {
            for n in 0..<N {
                var s = 0.0
                for k in 0..<K {
                    let x = tA ? a[k * lda + m] : a[m * lda + k]
                    let y = tB ? b[n * ldb + k] : b[k * ldb + n]
                    s += Double(x) * Double(y)
                }
                out[m * ldc + n] = Float(Double(alpha) * s + (accumulate ? Double(c[m * ldc + n]) : 0))
            }
        }
        return out
    }

    func run(_ tA: Bool, _ tB: Bool, M: Int, N: Int, K: Int, alpha: Float, accumulate: Bool, pad: Int, threads: Int) -> (got: [Float], want: [Float], bound: [Float]) {
        let lda = (tA ? M : K) + pad, ldb = (tB ? K : N) + pad, ldc = N + pad
        var r = TestRandom(seed: UInt64(M * 1_000_003 + N * 1009 + K))
        let a = r.floats((tA ? K : M) * lda), b = r.floats((tB ? N : K) * ldb), c0 = r.floats(M * ldc)
        var c = c0
        ComputeThreads.set(threads)
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
            sgemm(tA, tB, M: M, N: N, K: K, alpha: alpha, pa.baseAddress!, lda: lda, pb.baseAddress!, ldb: ldb,
                  pc.baseAddress!, ldc: ldc, accumulate: accumulate)
        } } }
        let want = reference(tA, tB, M: M, N: N, K: K, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, c: c0, ldc: ldc, accumulate: accumulate)
        // fp32 accumulation over K terms: |error| <= K * 2^-23 * sum |a||b| (+ the add of C); |a|,|b| < 1.
        let bound = [Float](repeating: Float(K + 2) * 0x1p-23 * Float(K) * abs(alpha) + 1e-6, count: want.count)
        return (c, want, bound)
    }

    func testSplitProductsMatchTheScalarReferenceAndDoNotDependOnThreads() {
        // (M, N, K): rows split (M large), columns split (M short and N wide), and one too small to split.
        for (M, N, K) in [(200, 40, 33), (9, 300, 70), (5, 3, 4)] {
            for (tA, tB) in [(false, false), (false, true), (true, false), (true, true)] {
                for (alpha, accumulate, pad) in [(Float(1), false, 0), (0.5, true, 3)] {
                    let one = run(tA, tB, M: M, N: N, K: K, alpha: alpha, accumulate: accumulate, pad: pad, threads: 1)
                    let two = run(tA, tB, M: M, N: N, K: K, alpha: alpha, accumulate: accumulate, pad: pad, threads: 2)
                    let ldc = N + pad
                    for m in 0..<M {
                        for n in 0..<N {
                            let i = m * ldc + n
                            XCTAssertEqual(one.got[i], one.want[i], accuracy: one.bound[i], "\(M)x\(N)x\(K) tA \(tA) tB \(tB) [\(m), \(n)]")
                        }
                    }
                    XCTAssertEqual(one.got, two.got, "\(M)x\(N)x\(K) tA \(tA) tB \(tB): 1 and 2 threads must agree bitwise")
                }
            }
        }
    }
}

