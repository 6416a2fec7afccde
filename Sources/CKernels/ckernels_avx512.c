// AVX-512 (F + BW) kernels for Lion bf16 and AdamW, 16 floats per vector. (Lion fp32 stays on
// the AVX2 kernel: one core already saturates memory with it, and a 512-bit version measured
// ~2% further from the memory limit.) Same contract as the AVX2 kernels in ckernels.c: compiled for baseline x86-64, only the CK_AVX512 functions use AVX-512,
// and LionEngine calls them only after ck_cpu_has_avx512() said yes. Every multiply and add is a
// separate, separately rounded instruction (contraction off; AVX-512F implies FMA in the
// compiler, so the pragmas below matter), in the AVX2 kernels' (= Reference's) order.
//
// bf16 rounding is the integer round-to-nearest-even of BFloat16.fromFloat (NaN -> quiet NaN).
// Deliberately NOT vcvtneps2bf16 (AVX512_BF16): it flushes subnormal inputs to zero, which would
// break bit equality with Reference for subnormal state.
//
// Tails (n % 16) use masked loads and stores (masked-off lanes neither fault nor write).
#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#include "ckernels.h"
#include "ck_shared.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

int ck_cpu_has_avx512(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & bit_OSXSAVE) || !(c & bit_AVX)) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    // OS saves XMM (1), YMM (2), opmask (5), ZMM0-15 upper halves (6) and ZMM16-31 (7).
    if ((lo & 0xE6) != 0xE6) return 0;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & bit_AVX512F) && (b & bit_AVX512BW);
}

// ---- 16-lane helpers ----

// lr*sign(c): lr with c's sign folded in, kept where c != 0 and c is not NaN (sign(+-0) =
// sign(NaN) = 0). Bitwise equal to lr * sign(c) for lr >= 0. (AVX-512F has no and/xor on ps,
// so the integer forms; ternary logic 0x6A = (A & B) ^ C.)
static inline CK_AVX512 __m512 lr_sign16(__m512 c, __m512 lr) {
    __m512i s = _mm512_ternarylogic_epi32(_mm512_castps_si512(c), _mm512_set1_epi32((int)0x80000000u),
                                          _mm512_castps_si512(lr), 0x6A);
    __mmask16 keep = _mm512_cmp_ps_mask(c, _mm512_setzero_ps(), _CMP_NEQ_OQ);
    return _mm512_castsi512_ps(_mm512_maskz_mov_epi32(keep, s));
}

// ---- Lion ----
// g = grad*scale; c = b1*m + c1*g; p = p*decay - lr*sign(c); m = b2*m + c2*g

typedef struct {
    __m512 lr, b1, c1, b2, c2, decay, scale;
} Lion16;

static inline CK_AVX512 Lion16 lion16_constants(CKLionConstants k) {
    Lion16 c = {_mm512_set1_ps(k.lr), _mm512_set1_ps(k.b1), _mm512_set1_ps(k.c1), _mm512_set1_ps(k.b2),
                _mm512_set1_ps(k.c2), _mm512_set1_ps(k.decay), _mm512_set1_ps(k.scale)};
    return c;
}

// One 16-lane Lion step on loaded values: returns the new p, writes the new m (fp32) to *mo.
static inline CK_AVX512 __m512 lion16(__m512 pv, __m512 graw, __m512 mv, const Lion16 *k, __m512 *mo) {
    __m512 gv = _mm512_mul_ps(graw, k->scale);
    __m512 c = _mm512_add_ps(_mm512_mul_ps(k->b1, mv), _mm512_mul_ps(k->c1, gv));
    *mo = _mm512_add_ps(_mm512_mul_ps(k->b2, mv), _mm512_mul_ps(k->c2, gv));
    return _mm512_sub_ps(_mm512_mul_ps(pv, k->decay), lr_sign16(c, k->lr));
}


// Software prefetch 512 elements (2 KiB of p and g, 1 KiB of m) ahead. One core alone could not
// keep enough misses in flight for this kernel's four streams: without it Lion bf16 ran at
// 0.91-0.96 of the memory limit on 1 thread (bf16/fp32 speedup 1.11-1.17x at 16M/64M); with it
// 1.19-1.22x (bench optimizer --threads 1, three interleaved runs each). Results are unchanged.
#define CK_PF 512
CK_AVX512 void ck_lion_bf16_avx512(float *p, const float *g, uint16_t *m, ptrdiff_t n, CKLionConstants k) {
    const Lion16 c = lion16_constants(k);
    ptrdiff_t i = 0;
    __m512 mn;
    for (; i + 16 <= n; i += 16) {
        _mm_prefetch((const char *)(p + i + CK_PF), _MM_HINT_T0);
        _mm_prefetch((const char *)(g + i + CK_PF), _MM_HINT_T0);
        if ((i & 31) == 0) _mm_prefetch((const char *)(m + i + CK_PF), _MM_HINT_T0);
        __m512 pv = lion16(_mm512_loadu_ps(p + i), _mm512_loadu_ps(g + i), widen16(load16(m + i)), &c, &mn);
        _mm512_storeu_ps(p + i, pv);
        store16r(m + i, round16(mn));
    }
    if (i < n) {
        __mmask16 t = tail_mask(n - i);
        __m512 pv = lion16(_mm512_maskz_loadu_ps(t, p + i), _mm512_maskz_loadu_ps(t, g + i),
                           widen16(load16_tail(m + i, t)), &c, &mn);
        _mm512_mask_storeu_ps(p + i, t, pv);
        store16r_tail(m + i, round16(mn), t);
    }
}

// ---- AdamW ----
// g = grad*scale; m = b1*m + c1*g; v = b2*v + c2*g*g;
// p = p*decay - lr*(m/bc1) / (sqrt(v/bc2) + eps)

typedef struct {
    __m512 lr, b1, c1, b2, c2, eps, decay, bc1, bc2, scale;
} AdamW16;

static inline CK_AVX512 AdamW16 adamw16_constants(CKAdamWConstants k) {
    AdamW16 c = {_mm512_set1_ps(k.lr), _mm512_set1_ps(k.b1), _mm512_set1_ps(k.c1), _mm512_set1_ps(k.b2),
                 _mm512_set1_ps(k.c2), _mm512_set1_ps(k.eps), _mm512_set1_ps(k.decay), _mm512_set1_ps(k.bc1),
                 _mm512_set1_ps(k.bc2), _mm512_set1_ps(k.scale)};
    return c;
}

// One 16-lane AdamW step on loaded values: returns the new p, writes the new m, v to *mo, *vo.
static inline CK_AVX512 __m512 adamw16(__m512 pv, __m512 graw, __m512 mold, __m512 vold, const AdamW16 *k,
                                       __m512 *mo, __m512 *vo) {
    __m512 gv = _mm512_mul_ps(graw, k->scale);
    __m512 mv = _mm512_add_ps(_mm512_mul_ps(k->b1, mold), _mm512_mul_ps(k->c1, gv));
    __m512 vv = _mm512_add_ps(_mm512_mul_ps(k->b2, vold), _mm512_mul_ps(_mm512_mul_ps(k->c2, gv), gv));
    __m512 num = _mm512_mul_ps(k->lr, _mm512_div_ps(mv, k->bc1));
    __m512 den = _mm512_add_ps(_mm512_sqrt_ps(_mm512_div_ps(vv, k->bc2)), k->eps);
    *mo = mv;
    *vo = vv;
    return _mm512_sub_ps(_mm512_mul_ps(pv, k->decay), _mm512_div_ps(num, den));
}

CK_AVX512 void ck_adamw_fp32_avx512(float *p, const float *g, float *m, float *v, ptrdiff_t n,
                                    CKAdamWConstants k) {
    const AdamW16 c = adamw16_constants(k);
    ptrdiff_t i = 0;
    __m512 mn, vn;
    for (; i + 16 <= n; i += 16) {
        __m512 pv = adamw16(_mm512_loadu_ps(p + i), _mm512_loadu_ps(g + i), _mm512_loadu_ps(m + i),
                            _mm512_loadu_ps(v + i), &c, &mn, &vn);
        _mm512_storeu_ps(p + i, pv);
        _mm512_storeu_ps(m + i, mn);
        _mm512_storeu_ps(v + i, vn);
    }
    if (i < n) {
        __mmask16 t = tail_mask(n - i);
        __m512 pv = adamw16(_mm512_maskz_loadu_ps(t, p + i), _mm512_maskz_loadu_ps(t, g + i),
                            _mm512_maskz_loadu_ps(t, m + i), _mm512_maskz_loadu_ps(t, v + i), &c, &mn, &vn);
        _mm512_mask_storeu_ps(p + i, t, pv);
        _mm512_mask_storeu_ps(m + i, t, mn);
        _mm512_mask_storeu_ps(v + i, t, vn);
    }
}

CK_AVX512 void ck_adamw_bf16_avx512(float *p, const float *g, uint16_t *m, uint16_t *v, ptrdiff_t n,
                                    CKAdamWConstants k) {
    const AdamW16 c = adamw16_constants(k);
    ptrdiff_t i = 0;
    __m512 mn, vn;
    for (; i + 16 <= n; i += 16) {
        __m512 pv = adamw16(_mm512_loadu_ps(p + i), _mm512_loadu_ps(g + i), widen16(load16(m + i)),
                            widen16(load16(v + i)), &c, &mn, &vn);
        _mm512_storeu_ps(p + i, pv);
        store16r(m + i, round16(mn));
        store16r(v + i, round16(vn));
    }
    if (i < n) {
        __mmask16 t = tail_mask(n - i);
        __m512 pv = adamw16(_mm512_maskz_loadu_ps(t, p + i), _mm512_maskz_loadu_ps(t, g + i),
                            widen16(load16_tail(m + i, t)), widen16(load16_tail(v + i, t)), &c, &mn, &vn);
        _mm512_mask_storeu_ps(p + i, t, pv);
        store16r_tail(m + i, round16(mn), t);
        store16r_tail(v + i, round16(vn), t);
    }
}

// ---- fp32 -> bf16 narrowing of a buffer (the GPT's bf16 matmul operands) ----

CK_AVX512 void ck_bf16_from_f32_avx512(const float *src, uint16_t *dst, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) store16r(dst + i, round16(_mm512_loadu_ps(src + i)));
    if (i < n) {
        __mmask16 t = tail_mask(n - i);
        store16r_tail(dst + i, round16(_mm512_maskz_loadu_ps(t, src + i)), t);
    }
}

/// dst[i] = the fp32 value of bf16 bits src[i] (exact).
CK_AVX512 void ck_f32_from_bf16_avx512(const uint16_t *src, float *dst, ptrdiff_t n) {
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, widen16(load16(src + i)));
    if (i < n) {
        __mmask16 t = tail_mask(n - i);
        _mm512_mask_storeu_ps(dst + i, t, widen16(load16_tail(src + i, t)));
    }
}

#else  // not x86-64: no AVX-512 path; LionEngine never calls the kernels below.

int ck_cpu_has_avx512(void) { return 0; }
void ck_lion_bf16_avx512(float *p, const float *g, uint16_t *m, ptrdiff_t n, CKLionConstants k) { __builtin_trap(); }
void ck_adamw_fp32_avx512(float *p, const float *g, float *m, float *v, ptrdiff_t n, CKAdamWConstants k) {
    __builtin_trap();
}
void ck_adamw_bf16_avx512(float *p, const float *g, uint16_t *m, uint16_t *v, ptrdiff_t n, CKAdamWConstants k) {
    __builtin_trap();
}
void ck_bf16_from_f32_avx512(const float *src, uint16_t *dst, ptrdiff_t n) { __builtin_trap(); }
void ck_f32_from_bf16_avx512(const uint16_t *src, float *dst, ptrdiff_t n) { __builtin_trap(); }

#endif
