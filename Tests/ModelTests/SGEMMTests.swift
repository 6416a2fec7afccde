import CKernels
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

    /// Two products in one fork-join (a linear layer's dw and dx; one of them too small to
    /// split) give the bits of two `sgemm` calls, on 1 and 2 threads, and those match the reference.
    func testPairedProductsEqualTwoSGEMMCalls() {
        var r = TestRandom(seed: 77)
        for (N, I, O) in [(200, 40, 33), (7, 300, 70), (3, 5, 4)] {
            let dout = r.floats(N * O), x = r.floats(N * I), w = r.floats(O * I), dx0 = r.floats(N * I)
            var results: [[Float]] = []
            for threads in [1, 2] {
                ComputeThreads.set(threads)
                var dw1 = [Float](repeating: .nan, count: O * I), dx1 = dx0, dw2 = dw1, dx2 = dx0
                sgemm(true, false, M: O, N: I, K: N, dout, lda: O, x, ldb: I, &dw1, ldc: I, accumulate: false)
                sgemm(false, false, M: N, N: I, K: O, dout, lda: O, w, ldb: I, &dx1, ldc: I, accumulate: true)
                dout.withUnsafeBufferPointer { d in x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in
                    dw2.withUnsafeMutableBufferPointer { dwp in dx2.withUnsafeMutableBufferPointer { dxp in
                        sgemm(Product(transA: true, transB: false, M: O, N: I, K: N, a: d.baseAddress!, lda: O, b: xp.baseAddress!, ldb: I,
                                      c: dwp.baseAddress!, ldc: I, accumulate: false),
                              Product(transA: false, transB: false, M: N, N: I, K: O, a: d.baseAddress!, lda: O, b: wp.baseAddress!, ldb: I,
                                      c: dxp.baseAddress!, ldc: I, accumulate: true))
                    } }
                } } }
                XCTAssertEqual(dw2, dw1, "dw \(N)x\(I)x\(O) on \(threads) thread(s)")
                XCTAssertEqual(dx2, dx1, "dx \(N)x\(I)x\(O) on \(threads) thread(s)")
                let want = reference(true, false, M: O, N: I, K: N, alpha: 1, a: dout, lda: O, b: x, ldb: I,
                                     c: [Float](repeating: 0, count: O * I), ldc: I, accumulate: false)
                for k in 0..<(O * I) { XCTAssertEqual(dw2[k], want[k], accuracy: Float(N + 2) * 0x1p-23 * Float(N) + 1e-6) }
                results.append(dw2 + dx2)
            }
            XCTAssertEqual(results[0], results[1], "\(N)x\(I)x\(O): 1 and 2 threads must agree bitwise")
        }
    }

    /// OpenBLAS runs vector kernels wherever the CPU has them: once `ComputeThreads.set` has
    /// run, never its SSE3 fallback (Prescott) on a CPU whose cpuid reports AVX2, unless the
    /// environment chose a core itself; and sgemm then still matches the scalar reference.
    func testOpenBLASRunsVectorKernelsWhereTheCPUHasThem() {
        ComputeThreads.set(1)
        if ck_cpu_has_avx2() == 1 && (getenv("OPENBLAS_CORETYPE") == nil || OpenBLASCore.replaced != nil) {
            XCTAssertNotEqual(OpenBLASCore.name.lowercased(), "prescott", "OpenBLAS runs its SSE3 kernels on a CPU with AVX2")
        }
        let r = run(false, true, M: 37, N: 29, K: 41, alpha: 1, accumulate: false, pad: 3, threads: 1)
        for i in r.want.indices { XCTAssertLessThanOrEqual(abs(r.got[i] - r.want[i]), r.bound[i], "element \(i)") }
    }
}

