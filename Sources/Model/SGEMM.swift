import COpenBLAS

/// Row-major C (M, N) = alpha op(A) op(B) + C, with C (rows ldc apart) zeroed first unless
/// `accumulate`. Zeroing with memset and calling sgemm with beta 1 gives the same bits as
/// beta 0, but OpenBLAS's beta-0 pass (sgemm_beta, ~8% of a baby-GPT step) is much slower than
/// memset. Callers that zero a whole strided buffer themselves pass accumulate: true.
///
/// Threads: C is cut into one block of rows per compute thread (of columns when M is too short
/// to cut), each a single-threaded OpenBLAS call over the whole K, so no element is summed
/// across threads and the bits do not depend on the thread count. Small products (under
/// `serialFLOPs`) and products called from inside a parallel loop run on the calling thread.
func sgemm(_ transA: Bool, _ transB: Bool, M: Int, N: Int, K: Int, alpha: Float = 1,
           _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
           _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    let threads = ComputeThreads.count
    guard threads > 1, 2 * M * N * K >= serialFLOPs else {
        sgemmBlock(transA, transB, M: M, N: N, K: K, alpha: alpha, a, lda: lda, b, ldb: ldb, c, ldc: ldc, accumulate: accumulate)
        return
    }
    if M >= N || M >= 16 * threads {
        // Rows m0..<m1 of C need rows m0..<m1 of op(A): A's rows (or columns, transposed).
        parallelRanges(M, grain: 16) { r in
            let aSlice = transA ? a + r.lowerBound : a + r.lowerBound * lda
            sgemmBlock(transA, transB, M: r.count, N: N, K: K, alpha: alpha, aSlice, lda: lda, b, ldb: ldb,
                       c + r.lowerBound * ldc, ldc: ldc, accumulate: accumulate)
        }
    } else {
        // Columns n0..<n1 of C need columns n0..<n1 of op(B).
        parallelRanges(N, grain: 16) { r in
            let bSlice = transB ? b + r.lowerBound * ldb : b + r.lowerBound
            sgemmBlock(transA, transB, M: M, N: r.count, K: K, alpha: alpha, a, lda: lda, bSlice, ldb: ldb,
                       c + r.lowerBound, ldc: ldc, accumulate: accumulate)
        }
    }
}

/// Below this many FLOPs a product runs on one thread (a fork-join costs ~0.3 us + cache traffic).
let serialFLOPs = 1 << 20

/// One single-threaded OpenBLAS call (ComputeThreads keeps OpenBLAS at one thread).
@inline(__always)
private func sgemmBlock(_ transA: Bool, _ transB: Bool, M: Int, N: Int, K: Int, alpha: Float,
                        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                        _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    if !accumulate {
        if ldc == N {
            c.update(repeating: 0, count: M * N)
        } else {
            for r in 0..<M { (c + r * ldc).update(repeating: 0, count: N) }
        }
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(M), Int32(N), Int32(K), alpha, a, Int32(lda), b, Int32(ldb), 1, c, Int32(ldc))
}
