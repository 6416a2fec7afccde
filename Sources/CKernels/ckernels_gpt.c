// GELU and softmax rows on AVX-512, 16 floats per vector (see include/ckernels_gpt.h). Each multiply, add and
// divide rounds separately, in the order of Model's SIMD8 code:
//   u = s * (x + ((c * x) * x) * x), t = tanh(u), gelu = (0.5 * x) * (1 + t)
//   tanh(x) = (x * p(x^2)) / q(x^2) on x clamped to +-7.9053 (Eigen's rational approximation)
// Tails (n % 16) use masked loads and stores.
#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#include <math.h>
#include "ckernels_gpt.h"
#include "ck_shared.h"

#if defined(__x86_64__)

static const float kScale = 0.7978845608028654f;   // sqrt(2 / pi)
static const float kCubic = 0.044715f;
static const float kClamp = 7.905311107635498f;

static inline CK_AVX512 __m512 tanh16(__m512 v) {
    const __m512 hi = _mm512_set1_ps(kClamp), lo = _mm512_set1_ps(-kClamp);
    // Clamp by compare and blend (NaN passes through, as Swift's replacing(with:where:)).
    __m512 x = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ), lo);
    x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ), hi);
    const __m512 x2 = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(-2.76076847742355e-16f);
    p = _mm512_add_ps(_mm512_mul_ps(p, x2), _mm512_set1_ps(2.00018790482477e-13f));
    p = _mm512_sub_ps(_mm512_mul_ps(p, x2), _mm512_set1_ps(8.60467152213735e-11f));
    p = _mm512_add_ps(_mm512_mul_ps(p, x2), _mm512_set1_ps(5.12229709037114e-8f));
    p = _mm512_add_ps(_mm512_mul_ps(p, x2), _mm512_set1_ps(1.48572235717979e-5f));
    p = _mm512_add_ps(_mm512_mul_ps(p, x2), _mm512_set1_ps(6.37261928875436e-4f));
    p = _mm512_add_ps(_mm512_mul_ps(p, x2), _mm512_set1_ps(4.89352455891786e-3f));
    __m512 q = _mm512_set1_ps(1.19825839466702e-6f);
    q = _mm512_add_ps(_mm512_mul_ps(q, x2), _mm512_set1_ps(1.18534705686654e-4f));
    q = _mm512_add_ps(_mm512_mul_ps(q, x2), _mm512_set1_ps(2.26843463243900e-3f));
    q = _mm512_add_ps(_mm512_mul_ps(q, x2), _mm512_set1_ps(4.89352518554385e-3f));
    return _mm512_div_ps(_mm512_mul_ps(x, p), q);
}

/// tanh(s * (x + ((c * x) * x) * x))
static inline CK_AVX512 __m512 gelu_tanh16(__m512 x) {
    __m512 cube = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(kCubic), x), x), x);
    return tanh16(_mm512_mul_ps(_mm512_set1_ps(kScale), _mm512_add_ps(x, cube)));
}

static inline CK_AVX512 __m512 gelu16(__m512 x) {
    const __m512 one = _mm512_set1_ps(1);
    return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(one, gelu_tanh16(x)));
}

/// 0.5 (1 + t) + ((0.5 x) (1 - t t)) (s (1 + (3 c) x^2)), x2 = x * x
static inline CK_AVX512 __m512 slope16(__m512 x, __m512 x2, __m512 t) {
    const __m512 one = _mm512_set1_ps(1), half = _mm512_set1_ps(0.5f);
    __m512 slope = _mm512_mul_ps(_mm512_set1_ps(kScale), _mm512_add_ps(one, _mm512_mul_ps(_mm512_set1_ps(3 * kCubic), x2)));
    __m512 h = _mm512_mul_ps(half, _mm512_add_ps(one, t));
    __m512 d = _mm512_mul_ps(_mm512_mul_ps(half, x), _mm512_sub_ps(one, _mm512_mul_ps(t, t)));
    return _mm512_add_ps(h, _mm512_mul_ps(d, slope));
}


CK_AVX512 void ck_gelu_avx512(float *out, const float *x, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(out + i, gelu16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(out + i, m, gelu16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

static inline CK_AVX512 void gelu_slope16(__m512 x, __m512 *out, __m512 *slope) {
    const __m512 t = gelu_tanh16(x);
    *out = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1), t));
    *slope = slope16(x, _mm512_mul_ps(x, x), t);
}

CK_AVX512 void ck_gelu_slope_avx512(float *out, float *slope, const float *x, ptrdiff_t n) {
    ptrdiff_t i = 0;
    __m512 o, s;
    for (; i + 16 <= n; i += 16) {
        gelu_slope16(_mm512_loadu_ps(x + i), &o, &s);
        _mm512_storeu_ps(out + i, o);
        _mm512_storeu_ps(slope + i, s);
    }
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        gelu_slope16(_mm512_maskz_loadu_ps(m, x + i), &o, &s);
        _mm512_mask_storeu_ps(out + i, m, o);
        _mm512_mask_storeu_ps(slope + i, m, s);
    }
}

/// gelu'(x) as Model's geluGradVector: t = tanh(s * (x + (c * x2) * x)).
static inline CK_AVX512 __m512 grad16(__m512 x) {
    const __m512 x2 = _mm512_mul_ps(x, x);
    __m512 cube = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(kCubic), x2), x);
    const __m512 t = tanh16(_mm512_mul_ps(_mm512_set1_ps(kScale), _mm512_add_ps(x, cube)));
    return slope16(x, x2, t);
}

CK_AVX512 void ck_gelu_backward_avx512(float *dx, const float *x, const float *dout, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dx + i, _mm512_mul_ps(_mm512_loadu_ps(dout + i), grad16(_mm512_loadu_ps(x + i))));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(dx + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, dout + i), grad16(_mm512_maskz_loadu_ps(m, x + i))));
    }
}

// The bf16 activations' GELU: each element widened (exactly), the fp32 body above, the output
// narrowed (round16), in registers: the same bits as widening to fp32, ck_gelu_avx512 or
// ck_gelu_backward_avx512, and narrowing, without the fp32 round trip through memory.
CK_AVX512 void ck_gelu_bf16_avx512(uint16_t *out, const uint16_t *x, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) store16r(out + i, round16(gelu16(widen16(load16(x + i)))));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        store16r_tail(out + i, round16(gelu16(widen16(load16_tail(x + i, m)))), m);
    }
}

CK_AVX512 void ck_gelu_backward_bf16_avx512(float *dx, const uint16_t *x, const float *dout, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dx + i, _mm512_mul_ps(_mm512_loadu_ps(dout + i), grad16(widen16(load16(x + i)))));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(dx + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, dout + i), grad16(widen16(load16_tail(x + i, m)))));
    }
}

CK_AVX512 void ck_multiply_avx512(float *dx, const float *dout, const float *slope, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dx + i, _mm512_mul_ps(_mm512_loadu_ps(dout + i), _mm512_loadu_ps(slope + i)));
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(dx + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, dout + i), _mm512_maskz_loadu_ps(m, slope + i)));
    }
}


/// e^x as Model's fastExp (Cephes expf, inputs clamped to [-87.3, 88.3]), the same order.
static inline CK_AVX512 __m512 exp16(__m512 v) {
    const __m512 lo = _mm512_set1_ps(-87.3f), hi = _mm512_set1_ps(88.3f);
    __m512 x = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, lo, _CMP_LT_OQ), lo);
    x = _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ), hi);
    const __m512 magic = _mm512_set1_ps(12582912.0f);   // 1.5 * 2^23
    const __m512 t = _mm512_add_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.4426950408889634f)), magic);
    const __m512 n = _mm512_sub_ps(t, magic);
    const __m512 r = _mm512_add_ps(_mm512_sub_ps(x, _mm512_mul_ps(n, _mm512_set1_ps(0.693359375f))),
                                   _mm512_mul_ps(n, _mm512_set1_ps(2.1219444e-4f)));
    __m512 p = _mm512_set1_ps(1.98756915e-4f);
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_add_ps(_mm512_mul_ps(p, r), _mm512_set1_ps(5.0000001201e-1f));
    const __m512 y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, _mm512_mul_ps(r, r)), r), _mm512_set1_ps(1));
    __m512i bits = _mm512_sub_epi32(_mm512_castps_si512(t), _mm512_castps_si512(magic));
    bits = _mm512_slli_epi32(_mm512_add_epi32(bits, _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(y, _mm512_castsi512_ps(bits));
}

CK_AVX512 float ck_row_max_avx512(const float *row, ptrdiff_t n) {
    __m512 m = _mm512_set1_ps(-INFINITY);
    ptrdiff_t j = 0;
    for (; j + 16 <= n; j += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(row + j));
    if (j < n) m = _mm512_mask_max_ps(m, tail_mask(n - j), m, _mm512_maskz_loadu_ps(tail_mask(n - j), row + j));
    return _mm512_reduce_max_ps(m);
}

CK_AVX512 float ck_exp_row_avx512(float *row, ptrdiff_t n, float shift, ptrdiff_t width) {
    const __m512 s = _mm512_set1_ps(shift);
    __m512 sum = _mm512_setzero_ps();
    ptrdiff_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(row + j), s));
        _mm512_storeu_ps(row + j, e);
        sum = _mm512_add_ps(sum, e);
    }
    if (j < n) {
        __mmask16 m = tail_mask(n - j);
        __m512 e = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + j), s)));
        _mm512_mask_storeu_ps(row + j, m, e);
        sum = _mm512_add_ps(sum, e);
    }
    for (ptrdiff_t k = n; k < width; k++) row[k] = 0;
    // Lanes summed in a fixed order (halves, then quarters ...), independent of n.
    float lanes[16];
    _mm512_storeu_ps(lanes, sum);
    for (int w = 8; w >= 1; w /= 2)
        for (int i = 0; i < w; i++) lanes[i] = lanes[i] + lanes[i + w];
    return lanes[0];
}

#else

void ck_gelu_avx512(float *out, const float *x, ptrdiff_t n) { (void)out; (void)x; (void)n; }
void ck_gelu_slope_avx512(float *out, float *slope, const float *x, ptrdiff_t n) { (void)out; (void)slope; (void)x; (void)n; }
void ck_gelu_backward_avx512(float *dx, const float *x, const float *dout, ptrdiff_t n) { (void)dx; (void)x; (void)dout; (void)n; }
void ck_multiply_avx512(float *dx, const float *dout, const float *slope, ptrdiff_t n) { (void)dx; (void)dout; (void)slope; (void)n; }
void ck_gelu_bf16_avx512(uint16_t *out, const uint16_t *x, ptrdiff_t n) { (void)out; (void)x; (void)n; }
void ck_gelu_backward_bf16_avx512(float *dx, const uint16_t *x, const float *dout, ptrdiff_t n) { (void)dx; (void)x; (void)dout; (void)n; }
float ck_row_max_avx512(const float *row, ptrdiff_t n) { (void)row; (void)n; return 0; }
float ck_exp_row_avx512(float *row, ptrdiff_t n, float shift, ptrdiff_t width) { (void)row; (void)n; (void)shift; (void)width; return 0; }

#endif
