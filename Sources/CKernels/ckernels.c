// AVX2 kernels for Lion and AdamW (fp32 and bf16 state). Compiled for baseline x86-64: only
// the functions marked CK_AVX2 use AVX2, and LionEngine calls them only after
// ck_cpu_has_avx2() said yes. FMA is deliberately not enabled (and contraction is off) so
// every multiply and add rounds separately, exactly as in LionEngine's `Reference`.
#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#include "ckernels.h"
#include "ck_shared.h"
#include <math.h>

// Portable narrowing (the reference of ck_bf16_from_f32_avx512 and its fallback off AVX-512).
void ck_bf16_from_f32(const float *src, uint16_t *dst, ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++) dst[i] = f32_to_bf16(src[i]);
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define CK_AVX2 __attribute__((target("avx2")))

int ck_cpu_has_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & bit_OSXSAVE) || !(c & bit_AVX)) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6) return 0;                       // OS saves XMM and YMM state
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & bit_AVX2) != 0;
}

// ---- 8-lane helpers ----

// lr*sign(c): lr with c's sign folded in, kept where c != 0 and c is not NaN (sign(+-0) =
// sign(NaN) = 0). Bitwise equal to lr * sign(c) for lr >= 0.
static inline CK_AVX2 __m256 lr_sign(__m256 c, __m256 lr) {
    const __m256 signbit = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    __m256 s = _mm256_xor_ps(_mm256_and_ps(c, signbit), lr);
    __m256 keep = _mm256_cmp_ps(c, _mm256_setzero_ps(), _CMP_NEQ_OQ);
    return _mm256_and_ps(s, keep);
}

// Exact widening of 8 bf16 values.
static inline CK_AVX2 __m256 widen8(const uint16_t *src) {
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)src));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

// Round to nearest even; the bf16 bits end up in the low half of each 32-bit lane.
static inline CK_AVX2 __m256i round8(__m256 x) {
    __m256i u = _mm256_castps_si256(x);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    __m256i r = _mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), lsb);
    __m256i q = _mm256_or_si256(u, _mm256_set1_epi32(0x00400000));
    __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(x, x, _CMP_UNORD_Q));
    return _mm256_srli_epi32(_mm256_blendv_epi8(r, q, nan), 16);
}

// Stores 16 rounded lanes (two round8 results) as 16 bf16 values.
static inline CK_AVX2 void store16(uint16_t *dst, __m256i lo, __m256i hi) {
    __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xD8);
    _mm256_storeu_si256((__m256i *)dst, packed);
}

// Stores 8 rounded lanes as 8 bf16 values.
static inline CK_AVX2 void store8(uint16_t *dst, __m256i r) {
    __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    _mm_storeu_si128((__m128i *)dst, packed);
}

// ---- Lion ----
// g = grad*scale; c = b1*m + c1*g; p = p*decay - lr*sign(c); m = b2*m + c2*g

CK_AVX2 void ck_lion_fp32_avx2(float *p, const float *g, float *m, ptrdiff_t n, CKLionConstants k) {
    const __m256 lr = _mm256_set1_ps(k.lr), b1 = _mm256_set1_ps(k.b1), c1 = _mm256_set1_ps(k.c1);
    const __m256 b2 = _mm256_set1_ps(k.b2), c2 = _mm256_set1_ps(k.c2);
    const __m256 decay = _mm256_set1_ps(k.decay), scale = _mm256_set1_ps(k.scale);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gv = _mm256_mul_ps(_mm256_loadu_ps(g + i), scale);
        __m256 mv = _mm256_loadu_ps(m + i);
        __m256 c = _mm256_add_ps(_mm256_mul_ps(b1, mv), _mm256_mul_ps(c1, gv));
        __m256 pv = _mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(p + i), decay), lr_sign(c, lr));
        _mm256_storeu_ps(p + i, pv);
        _mm256_storeu_ps(m + i, _mm256_add_ps(_mm256_mul_ps(b2, mv), _mm256_mul_ps(c2, gv)));
    }
    for (; i < n; i++) {
        float gs = g[i] * k.scale;
        float c = k.b1 * m[i] + k.c1 * gs;
        p[i] = p[i] * k.decay - k.lr * sign1(c);
        m[i] = k.b2 * m[i] + k.c2 * gs;
    }
}

// One 8-lane Lion bf16 step; returns the rounded new m.
static inline CK_AVX2 __m256i lion_bf16_8(float *p, const float *g, const uint16_t *m, __m256 lr, __m256 b1,
                                           __m256 c1, __m256 b2, __m256 c2, __m256 decay, __m256 scale) {
    __m256 gv = _mm256_mul_ps(_mm256_loadu_ps(g), scale);
    __m256 mv = widen8(m);
    __m256 c = _mm256_add_ps(_mm256_mul_ps(b1, mv), _mm256_mul_ps(c1, gv));
    __m256 pv = _mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(p), decay), lr_sign(c, lr));
    _mm256_storeu_ps(p, pv);
    return round8(_mm256_add_ps(_mm256_mul_ps(b2, mv), _mm256_mul_ps(c2, gv)));
}

CK_AVX2 void ck_lion_bf16_avx2(float *p, const float *g, uint16_t *m, ptrdiff_t n, CKLionConstants k) {
    const __m256 lr = _mm256_set1_ps(k.lr), b1 = _mm256_set1_ps(k.b1), c1 = _mm256_set1_ps(k.c1);
    const __m256 b2 = _mm256_set1_ps(k.b2), c2 = _mm256_set1_ps(k.c2);
    const __m256 decay = _mm256_set1_ps(k.decay), scale = _mm256_set1_ps(k.scale);
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i lo = lion_bf16_8(p + i, g + i, m + i, lr, b1, c1, b2, c2, decay, scale);
        __m256i hi = lion_bf16_8(p + i + 8, g + i + 8, m + i + 8, lr, b1, c1, b2, c2, decay, scale);
        store16(m + i, lo, hi);
    }
    for (; i + 8 <= n; i += 8) {
        store8(m + i, lion_bf16_8(p + i, g + i, m + i, lr, b1, c1, b2, c2, decay, scale));
    }
    for (; i < n; i++) {
        float gs = g[i] * k.scale;
        float mf = bf16_to_f32(m[i]);
        float c = k.b1 * mf + k.c1 * gs;
        p[i] = p[i] * k.decay - k.lr * sign1(c);
        m[i] = f32_to_bf16(k.b2 * mf + k.c2 * gs);
    }
}

// ---- AdamW ----
// g = grad*scale; m = b1*m + c1*g; v = b2*v + c2*g*g;
// p = p*decay - lr*(m/bc1) / (sqrt(v/bc2) + eps)

typedef struct {
    __m256 lr, b1, c1, b2, c2, eps, decay, bc1, bc2, scale;
} AdamW8;

static inline CK_AVX2 AdamW8 adamw8_constants(CKAdamWConstants k) {
    AdamW8 c = {_mm256_set1_ps(k.lr), _mm256_set1_ps(k.b1), _mm256_set1_ps(k.c1), _mm256_set1_ps(k.b2),
                _mm256_set1_ps(k.c2), _mm256_set1_ps(k.eps), _mm256_set1_ps(k.decay), _mm256_set1_ps(k.bc1),
                _mm256_set1_ps(k.bc2), _mm256_set1_ps(k.scale)};
    return c;
}

// Updates 8 params in place from old m, v (fp32 lanes); writes the new m, v to *mo, *vo.
static inline CK_AVX2 void adamw8(float *p, const float *g, __m256 mold, __m256 vold, const AdamW8 *k,
                                   __m256 *mo, __m256 *vo) {
    __m256 gv = _mm256_mul_ps(_mm256_loadu_ps(g), k->scale);
    __m256 mv = _mm256_add_ps(_mm256_mul_ps(k->b1, mold), _mm256_mul_ps(k->c1, gv));
    __m256 vv = _mm256_add_ps(_mm256_mul_ps(k->b2, vold), _mm256_mul_ps(_mm256_mul_ps(k->c2, gv), gv));
    __m256 num = _mm256_mul_ps(k->lr, _mm256_div_ps(mv, k->bc1));
    __m256 den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_div_ps(vv, k->bc2)), k->eps);
    __m256 pv = _mm256_sub_ps(_mm256_mul_ps(_mm256_loadu_ps(p), k->decay), _mm256_div_ps(num, den));
    _mm256_storeu_ps(p, pv);
    *mo = mv;
    *vo = vv;
}

static inline void adamw1(float *p, float g, float *m, float *v, const CKAdamWConstants *k) {
    float gs = g * k->scale;
    float mi = k->b1 * *m + k->c1 * gs;
    float vi = k->b2 * *v + k->c2 * gs * gs;
    *p = *p * k->decay - k->lr * (mi / k->bc1) / (sqrtf(vi / k->bc2) + k->eps);
    *m = mi;
    *v = vi;
}

CK_AVX2 void ck_adamw_fp32_avx2(float *p, const float *g, float *m, float *v, ptrdiff_t n, CKAdamWConstants k) {
    const AdamW8 c = adamw8_constants(k);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 mv, vv;
        adamw8(p + i, g + i, _mm256_loadu_ps(m + i), _mm256_loadu_ps(v + i), &c, &mv, &vv);
        _mm256_storeu_ps(m + i, mv);
        _mm256_storeu_ps(v + i, vv);
    }
    for (; i < n; i++) adamw1(p + i, g[i], m + i, v + i, &k);
}

CK_AVX2 void ck_adamw_bf16_avx2(float *p, const float *g, uint16_t *m, uint16_t *v, ptrdiff_t n,
                                CKAdamWConstants k) {
    const AdamW8 c = adamw8_constants(k);
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 m0, v0, m1, v1;
        adamw8(p + i, g + i, widen8(m + i), widen8(v + i), &c, &m0, &v0);
        adamw8(p + i + 8, g + i + 8, widen8(m + i + 8), widen8(v + i + 8), &c, &m1, &v1);
        store16(m + i, round8(m0), round8(m1));
        store16(v + i, round8(v0), round8(v1));
    }
    for (; i + 8 <= n; i += 8) {
        __m256 m0, v0;
        adamw8(p + i, g + i, widen8(m + i), widen8(v + i), &c, &m0, &v0);
        store8(m + i, round8(m0));
        store8(v + i, round8(v0));
    }
    for (; i < n; i++) {
        float mf = bf16_to_f32(m[i]), vf = bf16_to_f32(v[i]);
        adamw1(p + i, g[i], &mf, &vf, &k);
        m[i] = f32_to_bf16(mf);
        v[i] = f32_to_bf16(vf);
    }
}

#else  // not x86-64: no fast path; LionEngine never calls the kernels below.

int ck_cpu_has_avx2(void) { return 0; }
void ck_lion_fp32_avx2(float *p, const float *g, float *m, ptrdiff_t n, CKLionConstants k) { __builtin_trap(); }
void ck_lion_bf16_avx2(float *p, const float *g, uint16_t *m, ptrdiff_t n, CKLionConstants k) { __builtin_trap(); }
void ck_adamw_fp32_avx2(float *p, const float *g, float *m, float *v, ptrdiff_t n, CKAdamWConstants k) {
    __builtin_trap();
}
void ck_adamw_bf16_avx2(float *p, const float *g, uint16_t *m, uint16_t *v, ptrdiff_t n, CKAdamWConstants k) {
    __builtin_trap();
}

#endif
