import CKernels

/// dst (cols, rows), rows `ldd` apart = the transpose of src (rows, cols), rows `lds` apart:
/// dst[c * ldd + r] = src[r * lds + c]. AVX-512 16x16 blocks where the CPU has them
/// (`kernelsUseAVX512`, ckernels_transpose.c), plain loops otherwise; the same bits either way.
/// The attention's key and value tiles, so their products run as sgemm NN, not NT.
@inline(__always)
func transpose(_ src: UnsafePointer<Float>, lds: Int, into dst: UnsafeMutablePointer<Float>, ldd: Int, rows: Int, cols: Int) {
    if kernelsUseAVX512 { ck_transpose_avx512(src, lds, dst, ldd, rows, cols); return }
    for r in 0..<rows {
        for c in 0..<cols { dst[c * ldd + r] = src[r * lds + c] }
    }
}
