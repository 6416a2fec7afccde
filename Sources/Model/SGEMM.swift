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
    splitProduct(transA, transB, M: M, N: N, K: K) { _, m, n in
        sgemmBlock(transA, transB, M: m.count, N: n.count, K: K, alpha: alpha,
                   transA ? a + m.lowerBound : a + m.lowerBound * lda, lda: lda,
                   transB ? b + n.lowerBound * ldb : b + n.lowerBound, ldb: ldb,
                   c + m.lowerBound * ldc + n.lowerBound, ldc: ldc, accumulate: accumulate)
    }
}

/// Cuts C (M, N) of a product over K into one block per compute thread: rows when M is the
/// longer side or long enough, else columns; one block on the calling thread for products
/// under `serialFLOPs`. `block(thread, rows, columns)`; rows m of C read rows m of op(A)
/// (A + m, transposed, else A + m * lda), columns n read columns n of op(B) (B + n * ldb,
/// transposed, else B + n). Each element is summed by one call over the whole K.
func splitProduct(_ transA: Bool, _ transB: Bool, M: Int, N: Int, K: Int,
                  _ block: (Int, Range<Int>, Range<Int>) -> Void) {
    guard ComputeThreads.count > 1, 2 * M * N * K >= serialFLOPs else {
        if M > 0 && N > 0 { block(0, 0..<M, 0..<N) }
        return
    }
    if M >= N || M >= 16 * ComputeThreads.count {
        parallelChunks(M, grain: 16) { t, r in block(t, r, 0..<N) }
    } else {
        parallelChunks(N, grain: 16) { t, r in block(t, 0..<M, r) }
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
