// Sign-vote Lion (Distributed Lion, `--comm sign-vote`) kernels: the voter's fused sign +
// momentum + bit packing, the owner's bit-plane majority vote, and the update from the voted
// bits. Portable versions (plain C, branch-free per element; compilers vectorize them) and
// AVX-512 versions of the two float kernels (pack, apply), chosen by LionEngine at run time.
// Every multiply and add rounds separately (contraction off), in the order of LionEngine's
// `SignVoteReference`, so results are bitwise equal to it.
#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#include "ckernels.h"
#include <string.h>

// ---- portable ----

void ck_signvote_pack(const float *p, const float *g, float *m, uint64_t *out, ptrdiff_t n, CKSignVoteConstants k) {
    for (ptrdiff_t w = 0; w * 64 < n; w++) {
        ptrdiff_t lo = w * 64, hi = lo + 64 < n ? lo + 64 : n;
        uint64_t word = 0;
        for (ptrdiff_t i = lo; i < hi; i++) {
            float gs = g[i] * k.scale;
            float c = k.b1 * m[i] + k.c1 * gs;
            m[i] = k.b2 * m[i] + k.c2 * gs;
            uint64_t bit = (uint64_t)((c > 0.0f) | ((c == 0.0f) & (p[i] > 0.0f)));
            word |= bit << (i - lo);
        }
        out[w] = word;
    }
}

// counters[b] holds bit b of each lane's count (bits of them).
static inline uint64_t ge_const(const uint64_t *cnt, int bits, unsigned K) {
    if (bits < 32 && K >= (1u << bits)) return 0;
    uint64_t gt = 0, eq = ~0ull;
    for (int b = bits - 1; b >= 0; b--) {
        if ((K >> b) & 1u) {
            eq &= cnt[b];
        } else {
            gt |= eq & cnt[b];
            eq &= ~cnt[b];
        }
    }
    return gt | eq;
}

// Bits that hold counts 0..voters.
static inline int counter_bits(int voters) {
    int bits = 0;
    while (bits < CK_SIGNVOTE_MAX_COUNTER_BITS && (1l << bits) <= voters) bits++;
    return bits;
}

// Ripple-adds the voters' word j into the bit-sliced counters cnt[0..bits) (zeroed here).
static inline void count_word(const uint64_t *planes, ptrdiff_t stride, int voters, int bits, ptrdiff_t j, uint64_t *cnt) {
    for (int b = 0; b < bits; b++) cnt[b] = 0;
    for (int q = 0; q < voters; q++) {
        uint64_t carry = planes[q * stride + j];
        for (int b = 0; b < bits; b++) {
            uint64_t t = cnt[b] & carry;
            cnt[b] ^= carry;
            carry = t;
        }
    }
}

void ck_signvote_vote(const uint64_t *planes, ptrdiff_t stride, int voters, ptrdiff_t words,
                      uint64_t *sign, uint64_t *nonzero) {
    int bits = counter_bits(voters);
    unsigned posAt = (unsigned)voters / 2 + 1;        // 2*count > W
    unsigned notNegAt = ((unsigned)voters + 1) / 2;    // 2*count >= W
    uint64_t cnt[CK_SIGNVOTE_MAX_COUNTER_BITS];
    for (ptrdiff_t j = 0; j < words; j++) {
        count_word(planes, stride, voters, bits, j, cnt);
        uint64_t pos = ge_const(cnt, bits, posAt);
        uint64_t neg = ~ge_const(cnt, bits, notNegAt);
        sign[j] = pos;
        nonzero[j] = pos | neg;
    }
}

int ck_signvote_counter_bits(int voters) { return counter_bits(voters); }

void ck_signvote_counts(const uint64_t *planes, ptrdiff_t stride, int voters, ptrdiff_t words,
                        uint64_t *counters, ptrdiff_t counterStride) {
    int bits = counter_bits(voters);
    uint64_t cnt[CK_SIGNVOTE_MAX_COUNTER_BITS];
    for (ptrdiff_t j = 0; j < words; j++) {
        count_word(planes, stride, voters, bits, j, cnt);
        for (int b = 0; b < bits; b++) counters[b * counterStride + j] = cnt[b];
    }
}

static inline uint64_t bit_at(const uint64_t *w, ptrdiff_t pos) { return (w[pos >> 6] >> (pos & 63)) & 1u; }

void ck_signvote_apply(float *p, const uint64_t *sign, const uint64_t *nonzero, ptrdiff_t first, ptrdiff_t n,
                       float lr, float decay) {
    uint32_t lrBits;
    memcpy(&lrBits, &lr, 4);
    for (ptrdiff_t i = 0; i < n; i++) {
        uint32_t s = (uint32_t)bit_at(sign, first + i), z = (uint32_t)bit_at(nonzero, first + i);
        uint32_t u = (lrBits | ((s ^ 1u) << 31)) & (0u - z);     // +lr, -lr or +0
        float d;
        memcpy(&d, &u, 4);
        p[i] = p[i] * decay - d;
    }
}

void ck_signvote_apply_average(float *p, const uint64_t *counters, ptrdiff_t counterStride, int voters,
                               ptrdiff_t first, ptrdiff_t n, float lr, float decay) {
    int bits = counter_bits(voters);
    float w = (float)voters;
    for (ptrdiff_t i = 0; i < n; i++) {
        int32_t count = 0;
        for (int b = 0; b < bits; b++) count |= (int32_t)bit_at(counters + b * counterStride, first + i) << b;
        float v = (float)(2 * count - voters) / w;
        p[i] = p[i] * decay - lr * v;
    }
}

// ---- AVX-512 ----

#if defined(__x86_64__)
#include <immintrin.h>

#define CK_AVX512 __attribute__((target("avx512f,avx512bw")))

void CK_AVX512 ck_signvote_pack_avx512(const float *p, const float *g, float *m, uint64_t *out, ptrdiff_t n,
                                       CKSignVoteConstants k) {
    const __m512 b1 = _mm512_set1_ps(k.b1), c1 = _mm512_set1_ps(k.c1), b2 = _mm512_set1_ps(k.b2),
                 c2 = _mm512_set1_ps(k.c2), scale = _mm512_set1_ps(k.scale), zero = _mm512_setzero_ps();
    for (ptrdiff_t w = 0; w * 64 < n; w++) {
        uint64_t word = 0;
        for (int q = 0; q < 4; q++) {
            ptrdiff_t i = w * 64 + q * 16, rem = n - i;
            if (rem <= 0) break;
            __mmask16 live = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1);
            __m512 gv = _mm512_mul_ps(_mm512_maskz_loadu_ps(live, g + i), scale);
            __m512 mv = _mm512_maskz_loadu_ps(live, m + i);
            __m512 c = _mm512_add_ps(_mm512_mul_ps(b1, mv), _mm512_mul_ps(c1, gv));
            _mm512_mask_storeu_ps(m + i, live, _mm512_add_ps(_mm512_mul_ps(b2, mv), _mm512_mul_ps(c2, gv)));
            __mmask16 bits = _mm512_cmp_ps_mask(c, zero, _CMP_GT_OQ);
            __mmask16 z = _mm512_mask_cmp_ps_mask(live, c, zero, _CMP_EQ_OQ);
            // Only where some c is exactly zero is p read (a branch per 16 lanes, not per lane).
            if (z) bits |= _mm512_mask_cmp_ps_mask(z, _mm512_maskz_loadu_ps(z, p + i), zero, _CMP_GT_OQ);
            word |= (uint64_t)(bits & live) << (16 * q);
        }
        out[w] = word;
    }
}

// 16 bits starting at bit `pos`, of which `avail` (>= 1) exist.
static inline uint32_t bits16(const uint64_t *w, ptrdiff_t pos, ptrdiff_t avail) {
    ptrdiff_t k = pos >> 6;
    int s = (int)(pos & 63);
    uint64_t x = w[k] >> s;
    if (s > 48 && avail > 64 - s) x |= w[k + 1] << (64 - s);
    return (uint32_t)(x & 0xFFFFu);
}

void CK_AVX512 ck_signvote_apply_avx512(float *p, const uint64_t *sign, const uint64_t *nonzero, ptrdiff_t first,
                                        ptrdiff_t n, float lr, float decay) {
    const __m512 plus = _mm512_set1_ps(lr), minus = _mm512_castsi512_ps(
        _mm512_or_si512(_mm512_castps_si512(plus), _mm512_set1_epi32((int)0x80000000u)));
    const __m512 dv = _mm512_set1_ps(decay);
    for (ptrdiff_t i = 0; i < n; i += 16) {
        ptrdiff_t rem = n - i;
        __mmask16 live = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1);
        __mmask16 s = (__mmask16)bits16(sign, first + i, rem), z = (__mmask16)bits16(nonzero, first + i, rem);
        __m512 d = _mm512_maskz_mov_ps(z, _mm512_mask_blend_ps(s, minus, plus));
        __m512 pv = _mm512_maskz_loadu_ps(live, p + i);
        _mm512_mask_storeu_ps(p + i, live, _mm512_sub_ps(_mm512_mul_ps(pv, dv), d));
    }
}

void CK_AVX512 ck_signvote_apply_average_avx512(float *p, const uint64_t *counters, ptrdiff_t counterStride, int voters,
                                                ptrdiff_t first, ptrdiff_t n, float lr, float decay) {
    int bits = counter_bits(voters);
    const __m512 lv = _mm512_set1_ps(lr), dv = _mm512_set1_ps(decay), wv = _mm512_set1_ps((float)voters);
    const __m512i wi = _mm512_set1_epi32(voters);
    for (ptrdiff_t i = 0; i < n; i += 16) {
        ptrdiff_t rem = n - i;
        __mmask16 live = rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1);
        __m512i count = _mm512_setzero_si512();
        for (int b = 0; b < bits; b++) {
            __mmask16 m = (__mmask16)bits16(counters + b * counterStride, first + i, rem);
            count = _mm512_mask_add_epi32(count, m, count, _mm512_set1_epi32(1 << b));
        }
        __m512 v = _mm512_div_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_slli_epi32(count, 1), wi)), wv);
        __m512 pv = _mm512_maskz_loadu_ps(live, p + i);
        _mm512_mask_storeu_ps(p + i, live, _mm512_sub_ps(_mm512_mul_ps(pv, dv), _mm512_mul_ps(lv, v)));
    }
}

#else

void ck_signvote_apply_average_avx512(float *p, const uint64_t *counters, ptrdiff_t counterStride, int voters,
                                      ptrdiff_t first, ptrdiff_t n, float lr, float decay) {
    ck_signvote_apply_average(p, counters, counterStride, voters, first, n, lr, decay);
}

void ck_signvote_pack_avx512(const float *p, const float *g, float *m, uint64_t *out, ptrdiff_t n, CKSignVoteConstants k) {
    ck_signvote_pack(p, g, m, out, n, k);
}
void ck_signvote_apply_avx512(float *p, const uint64_t *sign, const uint64_t *nonzero, ptrdiff_t first, ptrdiff_t n,
                              float lr, float decay) {
    ck_signvote_apply(p, sign, nonzero, first, n, lr, decay);
}

#endif
