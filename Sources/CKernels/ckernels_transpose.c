// An fp32 matrix transpose on AVX-512 (see include/ckernels.h): 16x16 blocks, each 16 row loads,
// a 4x4 transpose of floats inside every 128-bit lane (unpack, shuffle), a 4x4 transpose of the
// lanes (two rounds of shuffle_f32x4), 16 row stores. Blocks at the edges load and store under
// masks. Only moves values: the result is the same bits as a scalar transpose.
#include "ckernels.h"
#include "ck_shared.h"

#if defined(__x86_64__)

/// dst rows 0..<cc (ldd apart, rr floats each) = the columns of src's rr x cc block (rows lds
/// apart); rr, cc in 1...16.
static inline CK_AVX512 void transpose16(const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd,
                                         ptrdiff_t rr, ptrdiff_t cc) {
    const __mmask16 cols = tail_mask(cc), rows = tail_mask(rr);   // 16: all lanes
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = i < rr ? _mm512_maskz_loadu_ps(cols, src + i * lds) : _mm512_setzero_ps();
    // Per 128-bit lane L: t[2g], t[2g+1] interleave rows 2g, 2g+1 (columns 4L, 4L+1 and 4L+2, 4L+3).
    for (int g = 0; g < 8; g++) {
        t[2 * g] = _mm512_unpacklo_ps(r[2 * g], r[2 * g + 1]);
        t[2 * g + 1] = _mm512_unpackhi_ps(r[2 * g], r[2 * g + 1]);
    }
    // r[4g + c], lane L = column 4L + c, rows 4g..4g+3.
    for (int g = 0; g < 4; g++) {
        r[4 * g] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        r[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        r[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        r[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    // Lanes: column 4L + c, rows 4g.. goes to lane g of output row 4L + c.
    for (int c = 0; c < 4; c++) {
        t[c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);        // lanes 0, 2 of row groups 0, 1
        t[4 + c] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);    // lanes 1, 3
        t[8 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xDD);
        r[4 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xDD);
    }
    for (int j = 0; j < 16; j++)
        if (j < cc) _mm512_mask_storeu_ps(dst + j * ldd, rows, r[j]);
}

CK_AVX512 void ck_transpose_avx512(const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd, ptrdiff_t rows, ptrdiff_t cols) {
    for (ptrdiff_t i = 0; i < rows; i += 16)
        for (ptrdiff_t j = 0; j < cols; j += 16) {
            const ptrdiff_t rr = rows - i < 16 ? rows - i : 16, cc = cols - j < 16 ? cols - j : 16;
            transpose16(src + i * lds + j, lds, dst + j * ldd + i, ldd, rr, cc);
        }
}

#else

void ck_transpose_avx512(const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd, ptrdiff_t rows, ptrdiff_t cols) {
    (void)src; (void)lds; (void)dst; (void)ldd; (void)rows; (void)cols;
}

#endif
