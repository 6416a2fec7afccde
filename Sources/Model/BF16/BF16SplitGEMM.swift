/// bf16 products with C's rows (or columns) split over the compute threads as `sgemm` splits
/// them: each block one oneDNN call on ONE OpenMP thread, with that thread's own engine and
/// cached primitives. No OpenMP team is ever started, so no idle OpenMP threads spin on the
/// cores between products (measured: a 2-thread OpenMP call left them spinning and cost
/// OpenBLAS and our pool 10-30%). Deterministic for a fixed thread count. Not thread-safe:
/// one per workspace.
final class BF16SplitGEMM {
    private var engines: [BF16GEMM] = []

    private func ensureEngines() {
        while engines.count < ComputeThreads.count { engines.append(BF16GEMM(threads: 1)) }
    }

    /// C (M, N) fp32 = alpha op(A) op(B) (+ C when `accumulate`), A and B bf16; `sgemm`'s layout.
    func gemm(_ transA: Bool, _ transB: Bool, M: Int, N: Int, K: Int, alpha: Float = 1,
              _ a: UnsafePointer<UInt16>, lda: Int, _ b: UnsafePointer<UInt16>, ldb: Int,
              _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        blocks(transA, transB, M: M, N: N, K: K, a, lda: lda, b, ldb: ldb, c, ldc: ldc) { engine, m, n, a, b, c in
            engine.gemm(transA, transB, M: m, N: n, K: K, alpha: alpha, a, lda: lda, b, ldb: ldb, c, ldc: ldc, accumulate: accumulate)
        }
    }

    /// The same with a bf16 C (overwritten: C = bf16(alpha op(A) op(B))).
    func gemm(_ transA: Bool, _ transB: Bool, M: Int, N: Int, K: Int, alpha: Float = 1,
              _ a: UnsafePointer<UInt16>, lda: Int, _ b: UnsafePointer<UInt16>, ldb: Int,
              _ c: UnsafeMutablePointer<UInt16>, ldc: Int) {
        blocks(transA, transB, M: M, N: N, K: K, a, lda: lda, b, ldb: ldb, c, ldc: ldc) { engine, m, n, a, b, c in
            engine.gemm(transA, transB, M: m, N: n, K: K, alpha: alpha, a, lda: lda, b, ldb: ldb, c, ldc: ldc)
        }
    }

    /// run(engine, rows, columns, A, B, C) for each of C's blocks (`splitProduct`), with the
    /// block's thread's engine and the block's first elements of A, B and C.
    private func blocks<E>(_ transA: Bool, _ transB: Bool, M: Int, N: Int, K: Int,
                           _ a: UnsafePointer<UInt16>, lda: Int, _ b: UnsafePointer<UInt16>, ldb: Int,
                           _ c: UnsafeMutablePointer<E>, ldc: Int,
                           _ run: (BF16GEMM, Int, Int, UnsafePointer<UInt16>, UnsafePointer<UInt16>, UnsafeMutablePointer<E>) -> Void) {
        ensureEngines()
        splitProduct(transA, transB, M: M, N: N, K: K) { t, m, n in
            run(engines[t], m.count, n.count, transA ? a + m.lowerBound : a + m.lowerBound * lda,
                transB ? b + n.lowerBound * ldb : b + n.lowerBound, c + m.lowerBound * ldc + n.lowerBound)
        }
    }

    /// oneDNN's kernel for the first block of such a product ("brg:avx512_core_bf16").
    func implementation(_ transA: Bool, _ transB: Bool, M: Int, N: Int, K: Int, lda: Int, ldb: Int, ldc: Int) -> String {
        ensureEngines()
        var name = ""
        splitProduct(transA, transB, M: M, N: N, K: K) { t, m, n in
            if t == 0 {
                name = engines[0].implementation(transA, transB, M: m.count, N: n.count, K: K, lda: lda, ldb: ldb, ldc: ldc,
                                                 accumulate: false)
            }
        }
        return name
    }
}
