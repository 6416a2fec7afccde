// A bias-free linear layer through OpenBLAS, row-major. N = rows (B * T), I = inputs, O = outputs.
// The weight W is (O, I) (PyTorch's nn.Linear layout), so out = x W^T. The tied output layer
// is this layer with W = wte (V, C).

/// out is (N, O) = x (N, I) W^T, W (O, I); with `residual`, out = residual + x W^T (the
/// residual is copied into out and the product added by sgemm with beta 1, which skips
/// OpenBLAS's separate beta pass and our own add pass; out may be the residual itself).
package func linearForward(out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                   N: Int, I: Int, O: Int, residual: UnsafePointer<Float>? = nil) {
    if let residual, residual != UnsafePointer(out) { out.update(from: residual, count: N * O) }
    sgemm(false, true, M: N, N: O, K: I, x, lda: I, w, ldb: I, out, ldc: O, accumulate: residual != nil)
}

/// dw (O, I) = dout^T (O, N) x (N, I)        (overwritten)
/// dx (N, I) = dout (N, O) W (O, I)          (overwritten, or added to dx when `accumulate`)
/// Both products in one fork-join (`sgemm(_:_:)`).
package func linearBackward(dx: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                    x: UnsafePointer<Float>, w: UnsafePointer<Float>, N: Int, I: Int, O: Int, accumulate: Bool) {
    sgemm(Product(transA: true, transB: false, M: O, N: I, K: N, a: dout, lda: O, b: x, ldb: I, c: dw, ldc: I, accumulate: false),
          Product(transA: false, transB: false, M: N, N: I, K: O, a: dout, lda: O, b: w, ldb: I, c: dx, ldc: I, accumulate: accumulate))
}

/// out (N, O) += b (O) on every row: a linear layer's bias (the MLP's dense layers; the GPT has none).
package func biasForward(out: UnsafeMutablePointer<Float>, b: UnsafePointer<Float>, N: Int, O: Int) {
    for r in 0..<N {
        let row = out + r * O
        for j in 0..<O { row[j] += b[j] }
    }
}

/// db (O) = sum over the N rows of dout (N, O), in row order (overwritten).
package func biasBackward(db: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, N: Int, O: Int) {
    db.update(repeating: 0, count: O)
    for r in 0..<N {
        let row = dout + r * O
        for j in 0..<O { db[j] += row[j] }
    }
}
