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
    let p = Product(transA: transA, transB: transB, M: M, N: N, K: K, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                    c: c, ldc: ldc, accumulate: accumulate)
    splitProduct(transA, transB, M: M, N: N, K: K) { _, m, n in p.run(rows: m, columns: n) }
}

/// Two independent products (neither reads what the other writes) in ONE fork-join: thread t
/// runs block t of each, the blocks `sgemm` would give them, so the bits are sgemm's.
/// (A linear layer's backward: dw and dx.)
func sgemm(_ first: Product, _ second: Product) {
    let (n1, n2) = (first.blocks, second.blocks)
    let n = max(n1, n2)
    guard n > 1 else {
        first.run(rows: 0..<first.M, columns: 0..<first.N)
        second.run(rows: 0..<second.M, columns: 0..<second.N)
        return
    }
    parallelChunks(n) { _, threads in
        for t in threads {
            if t < n1 { let (m, c) = first.block(t, of: n1); first.run(rows: m, columns: c) }
            if t < n2 { let (m, c) = second.block(t, of: n2); second.run(rows: m, columns: c) }
        }
    }
}

/// One product for `sgemm(_:_:)`: sgemm's arguments.
struct Product {
    var transA: Bool, transB: Bool
    var M: Int, N: Int, K: Int
    var alpha: Float = 1
    var a: UnsafePointer<Float>, lda: Int
    var b: UnsafePointer<Float>, ldb: Int
    var c: UnsafeMutablePointer<Float>, ldc: Int
    var accumulate: Bool

    /// The blocks `splitProduct` cuts it into.
    var blocks: Int { productBlocks(M: M, N: N, K: K) }

    func block(_ t: Int, of n: Int) -> (Range<Int>, Range<Int>) { productBlock(t, of: n, M: M, N: N) }

    /// C's block (rows m, columns n) on the calling thread.
    func run(rows m: Range<Int>, columns n: Range<Int>) {
        guard !m.isEmpty && !n.isEmpty else { return }
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
    let n = productBlocks(M: M, N: N, K: K)
    guard n > 1 else {
        if M > 0 && N > 0 { block(0, 0..<M, 0..<N) }
        return
    }
    parallelChunks(n) { _, threads in
        for t in threads {
            let (m, c) = productBlock(t, of: n, M: M, N: N)
            block(t, m, c)
        }
    }
}

/// How many blocks `splitProduct` cuts C (M, N) into: 1 under `serialFLOPs` or inside a
/// parallel loop, else the threads (at most one per 16 rows or columns).
func productBlocks(M: Int, N: Int, K: Int) -> Int {
    let threads = parallelThreads
    guard threads > 1, 2 * M * N * K >= serialFLOPs else { return 1 }
    return min(threads, (splitsRows(M: M, N: N) ? M + 15 : N + 15) / 16)
}

/// Rows when M is the longer side or has 16 per compute thread, else columns.
@inline(__always)
private func splitsRows(M: Int, N: Int) -> Bool { M >= N || M >= 16 * ComputeThreads.count }

/// Block t of n: contiguous rows (or columns) in multiples of 16.
func productBlock(_ t: Int, of n: Int, M: Int, N: Int) -> (Range<Int>, Range<Int>) {
    guard n > 1 else { return (0..<M, 0..<N) }
    let rows = splitsRows(M: M, N: N)
    let count = rows ? M : N
    let units = (count + 15) / 16
    let part = min(count, units * t / n * 16)..<min(count, units * (t + 1) / n * 16)
    return rows ? (part, 0..<N) : (0..<M, part)
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
