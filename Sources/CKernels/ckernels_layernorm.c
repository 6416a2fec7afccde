// LayerNorm rows (gain, no bias) on AVX-512, 16 floats per vector (see include/ckernels_gpt.h).
// Each loop runs over a row in vectors of 16 with a lane mask that is full but in the last
// vector of a row whose C is not a multiple of 16 (masked loads give zeros in the other lanes).
// The row sums run in 16 lanes, reduced by _mm512_reduce_add_ps. Every multiply and add rounds
// separately.
#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#include <math.h>
#include "ckernels_gpt.h"
#include "ck_shared.h"

#if defined(__x86_64__)

static inline CK_AVX512 __mmask16 lanes(ptrdiff_t c, ptrdiff_t C) { return C - c >= 16 ? (__mmask16)0xFFFF : tail_mask(C - c); }

static inline CK_AVX512 __m512 load(__mmask16 k, const float *p) { return _mm512_maskz_loadu_ps(k, p); }

// The forward's rows; out16 != NULL writes the output as bf16 (round16) instead of to out.
static inline CK_AVX512 void layernorm_forward(float *out, uint16_t *out16, float *mean, float *rstd, const float *x,
                                               const float *w, ptrdiff_t N, ptrdiff_t C, float eps) {
    const float invC = 1.0f / (float)C;
    for (ptrdiff_t n = 0; n < N; n++) {
        const float *xr = x + n * C;
        __m512 sum = _mm512_setzero_ps();
        for (ptrdiff_t c = 0; c < C; c += 16) sum = _mm512_add_ps(sum, load(lanes(c, C), xr + c));
        const float m = _mm512_reduce_add_ps(sum) * invC;
        const __m512 mv = _mm512_set1_ps(m);
        __m512 qv = _mm512_setzero_ps();
        for (ptrdiff_t c = 0; c < C; c += 16) {
            const __mmask16 k = lanes(c, C);
            const __m512 d = _mm512_maskz_sub_ps(k, load(k, xr + c), mv);
            qv = _mm512_add_ps(qv, _mm512_mul_ps(d, d));
        }
        const float s = 1.0f / sqrtf(_mm512_reduce_add_ps(qv) * invC + eps);
        const __m512 sv = _mm512_set1_ps(s);
        for (ptrdiff_t c = 0; c < C; c += 16) {
            const __mmask16 k = lanes(c, C);
            const __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(load(k, xr + c), mv), sv);
            const __m512 y = _mm512_mul_ps(xhat, load(k, w + c));
            if (out16) {
                store16r_tail(out16 + n * C + c, round16(y), k);
            } else {
                _mm512_mask_storeu_ps(out + n * C + c, k, y);
            }
        }
        mean[n] = m;
        rstd[n] = s;
    }
}

CK_AVX512 void ck_layernorm_forward_avx512(float *out, float *mean, float *rstd, const float *x, const float *w,
                                           ptrdiff_t N, ptrdiff_t C, float eps) {
    layernorm_forward(out, NULL, mean, rstd, x, w, N, C, eps);
}

CK_AVX512 void ck_layernorm_forward_bf16_avx512(uint16_t *out, float *mean, float *rstd, const float *x, const float *w,
                                                ptrdiff_t N, ptrdiff_t C, float eps) {
    layernorm_forward(NULL, out, mean, rstd, x, w, N, C, eps);
}

CK_AVX512 void ck_layernorm_backward_avx512(float *dx, float *dw, const float *dout, const float *x, const float *w,
                                            const float *mean, const float *rstd, ptrdiff_t N, ptrdiff_t C) {
    const float invC = 1.0f / (float)C;
    for (ptrdiff_t c = 0; c < C; c += 16) _mm512_mask_storeu_ps(dw + c, lanes(c, C), _mm512_setzero_ps());
    for (ptrdiff_t n = 0; n < N; n++) {
        const float *xr = x + n * C, *d = dout + n * C;
        float *dxr = dx + n * C;
        const __m512 m = _mm512_set1_ps(mean[n]), s = _mm512_set1_ps(rstd[n]);
        __m512 gv = _mm512_setzero_ps(), gxv = _mm512_setzero_ps();
        for (ptrdiff_t c = 0; c < C; c += 16) {
            const __mmask16 k = lanes(c, C);
            const __m512 xhat = _mm512_mul_ps(_mm512_maskz_sub_ps(k, load(k, xr + c), m), s);
            const __m512 g = _mm512_mul_ps(load(k, d + c), load(k, w + c));
            gv = _mm512_add_ps(gv, g);
            gxv = _mm512_add_ps(gxv, _mm512_mul_ps(g, xhat));
        }
        const __m512 gMean = _mm512_set1_ps(_mm512_reduce_add_ps(gv) * invC);
        const __m512 gxMean = _mm512_set1_ps(_mm512_reduce_add_ps(gxv) * invC);
        for (ptrdiff_t c = 0; c < C; c += 16) {
            const __mmask16 k = lanes(c, C);
            const __m512 xhat = _mm512_mul_ps(_mm512_sub_ps(load(k, xr + c), m), s);
            const __m512 dv = load(k, d + c);
            const __m512 g = _mm512_mul_ps(dv, load(k, w + c));
            const __m512 t = _mm512_sub_ps(_mm512_sub_ps(g, gMean), _mm512_mul_ps(xhat, gxMean));
            _mm512_mask_storeu_ps(dxr + c, k, _mm512_add_ps(load(k, dxr + c), _mm512_mul_ps(s, t)));
            _mm512_mask_storeu_ps(dw + c, k, _mm512_add_ps(load(k, dw + c), _mm512_mul_ps(dv, xhat)));
        }
    }
}

#else

void ck_layernorm_forward_avx512(float *out, float *mean, float *rstd, const float *x, const float *w,
                                 ptrdiff_t N, ptrdiff_t C, float eps) {
    (void)out; (void)mean; (void)rstd; (void)x; (void)w; (void)N; (void)C; (void)eps;
}
void ck_layernorm_forward_bf16_avx512(uint16_t *out, float *mean, float *rstd, const float *x, const float *w,
                                      ptrdiff_t N, ptrdiff_t C, float eps) {
    (void)out; (void)mean; (void)rstd; (void)x; (void)w; (void)N; (void)C; (void)eps;
}
void ck_layernorm_backward_avx512(float *dx, float *dw, const float *dout, const float *x, const float *w,
                                  const float *mean, const float *rstd, ptrdiff_t N, ptrdiff_t C) {
    (void)dx; (void)dw; (void)dout; (void)x; (void)w; (void)mean; (void)rstd; (void)N; (void)C;
}

#endif
