import COpenBLAS

/// Row-major C (M, N) = alpha op(A) op(B) + C, with C (rows ldc apart) zeroed first unless
/// `accumulate`. Zeroing with memset and calling sgemm with beta 1 gives the same bits as
/// beta 0, but OpenBLAS's beta-0 pass (sgemm_beta, ~8% of a baby-GPT step) is much slower than
/// memset. Callers that zero a whole strided buffer themselves pass accumulate: true.
@inline(__always)
func sgemm(_ transA: Bool, _ transB: Bool, M: Int, N: Int, K: Int, alpha: Float = 1,
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

// A bias-free linear layer through OpenBLAS, row-major. N = rows (B * T), I = inputs, O = outputs.
// The weight W is (O, I) (PyTorch's nn.Linear layout), so out = x W^T. The tied output layer
// is this layer with W = wte (V, C).

/// out is (N, O) = x (N, I) W^T, W (O, I); with `residual`, out = residual + x W^T (the
/// residual is copied into out and the product added by sgemm with beta 1, which skips
/// OpenBLAS's separate beta pass and our own add pass; out may be the residual itself).
func linearForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                   N: Int, I: Int, O: Int, residual: UnsafePointer<Float>? = nil) {
    if let residual, residual != UnsafePointer(out) { out.update(from: residual, count: N * O) }
    sgemm(false, true, M: N, N: O, K: I, x, lda: I, w, ldb: I, out, ldc: O, accumulate: residual != nil)
}

/// dw (O, I) = dout^T (O, N) x (N, I)        (overwritten)
/// dx (N, I) = dout (N, O) W (O, I)          (overwritten, or added to dx when `accumulate`)
func linearBackward(dx: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                    x: UnsafePointer<Float>, w: UnsafePointer<Float>, N: Int, I: Int, O: Int, accumulate: Bool) {
    sgemm(true, false, M: O, N: I, K: N, dout, lda: O, x, ldb: I, dw, ldc: I, accumulate: false)
    sgemm(false, false, M: N, N: I, K: O, dout, lda: O, w, ldb: I, dx, ldc: I, accumulate: accumulate)
}
