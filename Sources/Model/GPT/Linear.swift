import COpenBLAS

// A bias-free linear layer through OpenBLAS, row-major. N = rows (B * T), I = inputs, O = outputs.
// The weight W is (O, I) (PyTorch's nn.Linear layout), so out = x W^T. The tied output layer
// is this layer with W = wte (V, C).

/// out is (N, O) = x (N, I) W^T, W (O, I)
func linearForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                   N: Int, I: Int, O: Int) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(N), Int32(O), Int32(I),
                1, x, Int32(I), w, Int32(I), 0, out, Int32(O))
}

/// dw (O, I) = dout^T (O, N) x (N, I)        (overwritten)
/// dx (N, I) = dout (N, O) W (O, I)          (overwritten, or added to dx when `accumulate`)
func linearBackward(dx: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                    x: UnsafePointer<Float>, w: UnsafePointer<Float>, N: Int, I: Int, O: Int, accumulate: Bool) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(O), Int32(I), Int32(N),
                1, dout, Int32(O), x, Int32(I), 0, dw, Int32(I))
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(N), Int32(I), Int32(O),
                1, dout, Int32(O), w, Int32(I), accumulate ? 1 : 0, dx, Int32(I))
}
