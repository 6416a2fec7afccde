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
        ensureEngines()
        splitProduct(transA, transB, M: M, N: N, K: K) { t, m, n in
            engines[t].gemm(transA, transB, M: m.count, N: n.count, K: K, alpha: alpha,
                            transA ? a + m.lowerBound : a + m.lowerBound * lda, lda: lda,
                            transB ? b + n.lowerBound * ldb : b + n.lowerBound, ldb: ldb,
                            c + m.lowerBound * ldc + n.lowerBound, ldc: ldc, accumulate: accumulate)
        }
    }

    /// The same with a bf16 C (overwritten: C = bf16(alpha op(A) op(B))).
    func gemm(_ transA: Bool, _ transB: Bool, M: Int, N: Int, K: Int, alpha: Float = 1,
              _ a: UnsafePointer<UInt16>, lda: Int, _ b: UnsafePointer<UInt16>, ldb: Int,
              _ c: UnsafeMutablePointer<UInt16>, ldc: Int) {
        ensureEngines()
        splitProduct(transA, transB, M: M, N: N, K: K) { t, m, n in
            engines[t].gemm(transA, transB, M: m.count, N: n.count, K: K, alpha: alpha,
                            transA ? a + m.lowerBound : a + m.lowerBound * lda, lda: lda,
                            transB ? b + n.lowerBound * ldb : b + n.lowerBound, ldb: ldb,
                            c + m.lowerBound * ldc + n.lowerBound, ldc: ldc)
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
