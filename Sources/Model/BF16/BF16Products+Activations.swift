// The linear layers' products over activations in their storage format (`ActivationPointer`):
// fp32 activations go to the products' fp32-operand methods unchanged; bf16 ones (a bf16
// workspace) are the products' operands as they are, with no narrowing pass, and c_attn's and
// c_fc's outputs leave the product in bf16 (oneDNN rounds the fp32 sums once). Gradients
// (dx, dW) leave every product in fp32; dout, fp32, is narrowed for its two products.

extension LinearProducts {
    /// out (N, O) fp32 = x (N, I) W^T (+ residual), x in its format.
    package func forward(out: UnsafeMutablePointer<Float>, x: ActivationPointer, params: UnsafePointer<Float>, w: Int,
                         N: Int, I: Int, O: Int, residual: UnsafePointer<Float>?) {
        switch x {
        case .fp32(let x): forward(out: out, x: x, params: params, w: w, N: N, I: I, O: O, residual: residual)
        case .bf16(let x): bf16.forward(out: out, x16: x, w: w, N: N, I: I, O: O, residual: residual)
        }
    }

    /// out (N, O) = x (N, I) W^T in the activations' format (bf16: one rounding of the fp32 sums);
    /// a bf16 out takes no residual.
    package func forward(out: ActivationPointer, x: ActivationPointer, params: UnsafePointer<Float>, w: Int,
                         N: Int, I: Int, O: Int, residual: UnsafePointer<Float>?) {
        switch (out, x) {
        case (.fp32(let out), _):
            forward(out: out, x: x, params: params, w: w, N: N, I: I, O: O, residual: residual)
        case (.bf16(let out), .bf16(let x)):
            precondition(residual == nil, "a bf16 product output takes no residual")
            bf16.products.gemm(false, true, M: N, N: O, K: I, x, lda: I, bf16.weights.pointer + w, ldb: I, out, ldc: O)
        case (.bf16, .fp32):
            preconditionFailure("a bf16 product output from fp32 activations")
        }
    }

    /// dw (O, I) = dout^T x, dx (N, I) = dout W (fp32; dx added to when `accumulate`), x in its format.
    package func backward(dx: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                          x: ActivationPointer, params: UnsafePointer<Float>, w: Int, N: Int, I: Int, O: Int, accumulate: Bool) {
        switch x {
        case .fp32(let x):
            backward(dx: dx, dw: dw, dout: dout, x: x, params: params, w: w, N: N, I: I, O: O, accumulate: accumulate)
        case .bf16(let x):
            bf16.backward(dx: dx, dw: dw, dout: dout, x16: x, w: w, N: N, I: I, O: O, accumulate: accumulate)
        }
    }

    private var bf16: BF16Products {
        guard let p = self as? BF16Products else { preconditionFailure("bf16 activations need bf16 products (a bf16 workspace)") }
        return p
    }
}

extension BF16Products {
    /// out (N, O) fp32 = x16 (N, I) W^T (+ residual; out may be the residual).
    func forward(out: UnsafeMutablePointer<Float>, x16: UnsafePointer<UInt16>, w: Int, N: Int, I: Int, O: Int,
                 residual: UnsafePointer<Float>?) {
        if let residual, residual != UnsafePointer(out) { out.update(from: residual, count: N * O) }
        products.gemm(false, true, M: N, N: O, K: I, x16, lda: I, weights.pointer + w, ldb: I, out, ldc: O,
                      accumulate: residual != nil)
    }

    /// dw = dout^T x16 (overwritten), dx = dout W (overwritten or added to); dout narrowed first.
    func backward(dx: UnsafeMutablePointer<Float>, dw: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
                  x16: UnsafePointer<UInt16>, w: Int, N: Int, I: Int, O: Int, accumulate: Bool) {
        BF16Convert.narrow(dout, to: output.pointer, count: N * O)
        products.gemm(true, false, M: O, N: I, K: N, output.pointer, lda: O, x16, ldb: I, dw, ldc: I, accumulate: false)
        products.gemm(false, false, M: N, N: I, K: O, output.pointer, lda: O, weights.pointer + w, ldb: I, dx, ldc: I,
                      accumulate: accumulate)
    }
}
