// Cautious Lion (arXiv 2411.16085, algorithm 2; lion-pytorch's `cautious_factor`) in two passes
// over a piece of one tensor, with the per-tensor mean of the scale in between:
//
//   sign pass:  gs = g*scale; c = b1*m + c1*gs; m = b2*m + c2*gs; three bits per element:
//               positive (c > 0), moving (c != 0; NaN: no), aligned (sign(c)*gs > 0);
//               returns how many are aligned.
//   apply pass: p = p*decay - d, d = +-lrAligned where aligned, +-lrOther where moving but
//               not aligned, +0 where c was 0 (sign of d: + where positive).
//
// The caller turns the summed aligned counts of a tensor into lrAligned = lr * (1/mean) and
// lrOther = lr * (factor/mean). Bit i of a plane is element `first + i` of the piece (bit k of
// word k/64): pieces need not start on a word; a word shared by two pieces is written
// read-modify-write, so two threads must not write pieces that share a word (the engine's
// chunks are multiples of 64 elements). Portable versions (plain C, branch-free; compilers
// vectorize them) and AVX-512 versions, bitwise equal (contraction off, the same operations).
// The AVX-512 loops work in blocks of 64 elements, one word per plane: a block that starts on a
// word (every block of the engine's chunks) stores or loads its words whole, and only a piece's
// tail uses masks (a masked store on every vector made both passes ~4.5x slower than plain Lion
// on the dev machine's AMD EPYC; reading the bits 16 at a time from three planes, with shifts
// across words, took the apply pass ~1.6x this one's time in cache). Every line of g, m and p is
// prefetched 1024 elements ahead: with one prefetch per 64 elements (one line in four) the sign
// pass ran ~20% slower than a copy loop of its traffic on two threads, the two passes together
// ~1.25-1.3x plain Lion's time at 64M elements instead of ~1.1x.
#pragma STDC FP_CONTRACT OFF
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

#include "ckernels.h"
#include "ck_shared.h"

// Writes the low `count` (1..64) bits of `bits` at bit `pos` of `w`; other bits unchanged.
static inline void put_bits(uint64_t *w, ptrdiff_t pos, uint64_t bits, int count) {
    ptrdiff_t k = pos >> 6;
    int s = (int)(pos & 63);
    uint64_t mask = count == 64 ? ~0ull : (1ull << count) - 1;
    bits &= mask;
    w[k] = (w[k] & ~(mask << s)) | (bits << s);
    if (s + count > 64) {
        uint64_t spill = (1ull << (s + count - 64)) - 1;
        w[k + 1] = (w[k + 1] & ~spill) | (bits >> (64 - s));
    }
}

// Writes 64 bits at bit `pos`: one plain store where `pos` starts a word (the engine's chunks).
static inline void put_word(uint64_t *w, ptrdiff_t pos, uint64_t bits, int count) {
    if (count == 64 && (pos & 63) == 0) w[pos >> 6] = bits; else put_bits(w, pos, bits, count);
}

// The `count` (1..64) bits starting at bit `pos` in the low bits (bits above them unspecified);
// reads the next word only where some of the `count` bits lie in it.
static inline uint64_t get_bits(const uint64_t *w, ptrdiff_t pos, int count) {
    ptrdiff_t k = pos >> 6;
    int s = (int)(pos & 63);
    uint64_t x = w[k] >> s;
    if (s != 0 && s + count > 64) x |= w[k + 1] << (64 - s);
    return x;
}

// ---- portable ----

// One element of the sign pass: the new m (fp32) and the three bits.
static inline float sign1_bits(float g, float m, CKLionConstants k, uint64_t *pos, uint64_t *mov, uint64_t *al) {
    float gs = g * k.scale;
    float c = k.b1 * m + k.c1 * gs;
    *pos = (uint64_t)(c > 0.0f);
    *mov = (uint64_t)((c > 0.0f) | (c < 0.0f));
    *al = (uint64_t)(((c > 0.0f) & (gs > 0.0f)) | ((c < 0.0f) & (gs < 0.0f)));
    return k.b2 * m + k.c2 * gs;
}

int64_t ck_cautious_sign_fp32(const float *g, float *m, CKCautiousBits b, ptrdiff_t first, ptrdiff_t n,
                              CKLionConstants k) {
    int64_t aligned = 0;
    for (ptrdiff_t lo = 0; lo < n; lo += 64) {
        int len = n - lo < 64 ? (int)(n - lo) : 64;
        uint64_t wp = 0, wm = 0, wa = 0;
        for (int i = 0; i < len; i++) {
            uint64_t p, mv, a;
            m[lo + i] = sign1_bits(g[lo + i], m[lo + i], k, &p, &mv, &a);
            wp |= p << i;
            wm |= mv << i;
            wa |= a << i;
        }
        put_word(b.positive, first + lo, wp, len);
        put_word(b.moving, first + lo, wm, len);
        put_word(b.aligned, first + lo, wa, len);
        aligned += __builtin_popcountll(wa);
    }
    return aligned;
}

int64_t ck_cautious_sign_bf16(const float *g, uint16_t *m, CKCautiousBits b, ptrdiff_t first, ptrdiff_t n,
                              CKLionConstants k) {
    int64_t aligned = 0;
    for (ptrdiff_t lo = 0; lo < n; lo += 64) {
        int len = n - lo < 64 ? (int)(n - lo) : 64;
        uint64_t wp = 0, wm = 0, wa = 0;
        for (int i = 0; i < len; i++) {
            uint64_t p, mv, a;
            m[lo + i] = f32_to_bf16(sign1_bits(g[lo + i], bf16_to_f32(m[lo + i]), k, &p, &mv, &a));
            wp |= p << i;
            wm |= mv << i;
            wa |= a << i;
        }
        put_word(b.positive, first + lo, wp, len);
        put_word(b.moving, first + lo, wm, len);
        put_word(b.aligned, first + lo, wa, len);
        aligned += __builtin_popcountll(wa);
    }
    return aligned;
}

void ck_cautious_apply(float *p, CKCautiousReadBits b, ptrdiff_t first, ptrdiff_t n, CKCautiousApply k) {
    uint32_t lrA, lrO;
    memcpy(&lrA, &k.lrAligned, 4);
    memcpy(&lrO, &k.lrOther, 4);
    for (ptrdiff_t lo = 0; lo < n; lo += 64) {
        int len = n - lo < 64 ? (int)(n - lo) : 64;
        uint64_t wp = get_bits(b.positive, first + lo, len), wm = get_bits(b.moving, first + lo, len);
        uint64_t wa = get_bits(b.aligned, first + lo, len);
        for (int i = 0; i < len; i++) {
            uint32_t s = (uint32_t)(wp >> i) & 1u, z = (uint32_t)(wm >> i) & 1u, a = (uint32_t)(wa >> i) & 1u;
            uint32_t mag = a ? lrA : lrO;
            uint32_t u = (mag | ((s ^ 1u) << 31)) & (0u - z);     // +-lrAligned, +-lrOther or +0
            float d;
            memcpy(&d, &u, 4);
            p[lo + i] = p[lo + i] * k.decay - d;
        }
    }
}

// ---- AVX-512 ----

#if defined(__x86_64__)

typedef struct {
    __m512 b1, c1, b2, c2, scale;
} Sign16;

// 16 lanes of the sign pass (masked-off lanes read as 0 and give 0 bits): returns the new m.
// moving = c != 0 (ordered: NaN is not); aligned = moving, gs != 0 and c, gs of one sign bit,
// which is (c > 0 and gs > 0) or (c < 0 and gs < 0) (a NaN gs makes c NaN: not moving).
static inline CK_AVX512 __m512 sign16(__m512 graw, __m512 mv, const Sign16 *k, __mmask16 live,
                                      __mmask16 *pos, __mmask16 *mov, __mmask16 *al) {
    const __m512 zero = _mm512_setzero_ps();
    __m512 gs = _mm512_mul_ps(graw, k->scale);
    __m512 c = _mm512_add_ps(_mm512_mul_ps(k->b1, mv), _mm512_mul_ps(k->c1, gs));
    __mmask16 nz = _mm512_mask_cmp_ps_mask(live, c, zero, _CMP_NEQ_OQ);
    *pos = _mm512_mask_cmp_ps_mask(nz, c, zero, _CMP_GT_OQ);
    *mov = nz;
    __mmask16 both = _mm512_mask_cmp_ps_mask(nz, gs, zero, _CMP_NEQ_OQ);
    __m512i signs = _mm512_xor_si512(_mm512_castps_si512(c), _mm512_castps_si512(gs));
    *al = _mm512_mask_testn_epi32_mask(both, signs, _mm512_set1_epi32((int)0x80000000u));
    return _mm512_add_ps(_mm512_mul_ps(k->b2, mv), _mm512_mul_ps(k->c2, gs));
}

static inline CK_AVX512 Sign16 sign16_constants(CKLionConstants k) {
    Sign16 c = {_mm512_set1_ps(k.b1), _mm512_set1_ps(k.c1), _mm512_set1_ps(k.b2), _mm512_set1_ps(k.c2),
                _mm512_set1_ps(k.scale)};
    return c;
}

// Software prefetch of every line (each 16 elements of g, m and p) 1024 elements ahead.
#define CK_CAUTIOUS_PF 1024

// One block of up to 64 elements of the fp32 sign pass; its three words of bits in w[0..2].
// Always inlined and called with len 64 (the engine's chunks: no tail masks, folded away) or
// with the piece's tail.
static inline __attribute__((always_inline)) CK_AVX512 void sign64_fp32(const float *g, float *m, int len,
                                                                       const Sign16 *c, uint64_t w[3]) {
    w[0] = w[1] = w[2] = 0;
    for (int q = 0; q * 16 < len; q++) {
        int rem = len - q * 16;
        __mmask16 live = rem >= 16 ? (__mmask16)0xFFFF : tail_mask(rem);
        __mmask16 p, mv, a;
        _mm_prefetch((const char *)(g + q * 16 + CK_CAUTIOUS_PF), _MM_HINT_T0);
        _mm_prefetch((const char *)(m + q * 16 + CK_CAUTIOUS_PF), _MM_HINT_T0);
        if (rem >= 16) {
            _mm512_storeu_ps(m + q * 16, sign16(_mm512_loadu_ps(g + q * 16), _mm512_loadu_ps(m + q * 16), c, live, &p, &mv, &a));
        } else {
            __m512 mn = sign16(_mm512_maskz_loadu_ps(live, g + q * 16), _mm512_maskz_loadu_ps(live, m + q * 16), c, live,
                               &p, &mv, &a);
            _mm512_mask_storeu_ps(m + q * 16, live, mn);
        }
        w[0] |= (uint64_t)p << (16 * q);
        w[1] |= (uint64_t)mv << (16 * q);
        w[2] |= (uint64_t)a << (16 * q);
    }
}

// The same with bf16 momentum (widened exactly, rounded to nearest even on store).
static inline __attribute__((always_inline)) CK_AVX512 void sign64_bf16(const float *g, uint16_t *m, int len,
                                                                       const Sign16 *c, uint64_t w[3]) {
    w[0] = w[1] = w[2] = 0;
    for (int q = 0; q * 16 < len; q++) {
        int rem = len - q * 16;
        __mmask16 live = rem >= 16 ? (__mmask16)0xFFFF : tail_mask(rem);
        _mm_prefetch((const char *)(g + q * 16 + CK_CAUTIOUS_PF), _MM_HINT_T0);
        if ((q & 1) == 0) _mm_prefetch((const char *)(m + q * 16 + CK_CAUTIOUS_PF), _MM_HINT_T0);
        __m512 mf = widen16(rem >= 16 ? load16(m + q * 16) : load16_tail(m + q * 16, live));
        __m512 gv = rem >= 16 ? _mm512_loadu_ps(g + q * 16) : _mm512_maskz_loadu_ps(live, g + q * 16);
        __mmask16 p, mv, a;
        __m512i mn = round16(sign16(gv, mf, c, live, &p, &mv, &a));
        if (rem >= 16) store16r(m + q * 16, mn); else store16r_tail(m + q * 16, mn, live);
        w[0] |= (uint64_t)p << (16 * q);
        w[1] |= (uint64_t)mv << (16 * q);
        w[2] |= (uint64_t)a << (16 * q);
    }
}

// Stores a block's three words at bit `pos` and returns its aligned count.
static inline int64_t put_block(CKCautiousBits b, ptrdiff_t pos, const uint64_t w[3], int len) {
    put_word(b.positive, pos, w[0], len);
    put_word(b.moving, pos, w[1], len);
    put_word(b.aligned, pos, w[2], len);
    return __builtin_popcountll(w[2]);
}

CK_AVX512 int64_t ck_cautious_sign_fp32_avx512(const float *g, float *m, CKCautiousBits b, ptrdiff_t first,
                                               ptrdiff_t n, CKLionConstants k) {
    const Sign16 c = sign16_constants(k);
    int64_t aligned = 0;
    uint64_t w[3];
    for (ptrdiff_t lo = 0; lo < n; lo += 64) {
        int len = n - lo < 64 ? (int)(n - lo) : 64;
        if (len == 64) sign64_fp32(g + lo, m + lo, 64, &c, w); else sign64_fp32(g + lo, m + lo, len, &c, w);
        aligned += put_block(b, first + lo, w, len);
    }
    return aligned;
}

CK_AVX512 int64_t ck_cautious_sign_bf16_avx512(const float *g, uint16_t *m, CKCautiousBits b, ptrdiff_t first,
                                               ptrdiff_t n, CKLionConstants k) {
    const Sign16 c = sign16_constants(k);
    int64_t aligned = 0;
    uint64_t w[3];
    for (ptrdiff_t lo = 0; lo < n; lo += 64) {
        int len = n - lo < 64 ? (int)(n - lo) : 64;
        if (len == 64) sign64_bf16(g + lo, m + lo, 64, &c, w); else sign64_bf16(g + lo, m + lo, len, &c, w);
        aligned += put_block(b, first + lo, w, len);
    }
    return aligned;
}

typedef struct {
    __m512 lrA, lrO, minusA, minusO, decay;
} Apply16;

// One block of up to 64 elements of the apply pass from its three words of bits (always
// inlined; len 64 folds the tail masks away).
static inline __attribute__((always_inline)) CK_AVX512 void apply64(float *p, int len, uint64_t wp, uint64_t wm,
                                                                   uint64_t wa, const Apply16 *k) {
    for (int q = 0; q * 16 < len; q++) {
        int rem = len - q * 16;
        _mm_prefetch((const char *)(p + q * 16 + CK_CAUTIOUS_PF), _MM_HINT_T0);
        __mmask16 s = (__mmask16)(wp >> (16 * q)), z = (__mmask16)(wm >> (16 * q)), a = (__mmask16)(wa >> (16 * q));
        __m512 plus = _mm512_mask_blend_ps(a, k->lrO, k->lrA), minus = _mm512_mask_blend_ps(a, k->minusO, k->minusA);
        __m512 d = _mm512_maskz_mov_ps(z, _mm512_mask_blend_ps(s, minus, plus));
        if (rem >= 16) {
            _mm512_storeu_ps(p + q * 16, _mm512_sub_ps(_mm512_mul_ps(_mm512_loadu_ps(p + q * 16), k->decay), d));
        } else {
            __mmask16 live = tail_mask(rem);
            __m512 pv = _mm512_maskz_loadu_ps(live, p + q * 16);
            _mm512_mask_storeu_ps(p + q * 16, live, _mm512_sub_ps(_mm512_mul_ps(pv, k->decay), d));
        }
    }
}

CK_AVX512 void ck_cautious_apply_avx512(float *p, CKCautiousReadBits b, ptrdiff_t first, ptrdiff_t n,
                                        CKCautiousApply k) {
    const __m512i signbit = _mm512_set1_epi32((int)0x80000000u);
    Apply16 c;
    c.lrA = _mm512_set1_ps(k.lrAligned);
    c.lrO = _mm512_set1_ps(k.lrOther);
    c.decay = _mm512_set1_ps(k.decay);
    c.minusA = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(c.lrA), signbit));
    c.minusO = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(c.lrO), signbit));
    for (ptrdiff_t lo = 0; lo < n; lo += 64) {
        int len = n - lo < 64 ? (int)(n - lo) : 64;
        ptrdiff_t pos = first + lo;
        if (len == 64 && (pos & 63) == 0) {
            ptrdiff_t w = pos >> 6;
            apply64(p + lo, 64, b.positive[w], b.moving[w], b.aligned[w], &c);
        } else {
            apply64(p + lo, len, get_bits(b.positive, pos, len), get_bits(b.moving, pos, len), get_bits(b.aligned, pos, len),
                    &c);
        }
    }
}

#else  // not x86-64: the AVX-512 names run the portable kernels (LionEngine never picks them).

int64_t ck_cautious_sign_fp32_avx512(const float *g, float *m, CKCautiousBits b, ptrdiff_t first, ptrdiff_t n,
                                     CKLionConstants k) {
    return ck_cautious_sign_fp32(g, m, b, first, n, k);
}
int64_t ck_cautious_sign_bf16_avx512(const float *g, uint16_t *m, CKCautiousBits b, ptrdiff_t first, ptrdiff_t n,
                                     CKLionConstants k) {
    return ck_cautious_sign_bf16(g, m, b, first, n, k);
}
void ck_cautious_apply_avx512(float *p, CKCautiousReadBits b, ptrdiff_t first, ptrdiff_t n, CKCautiousApply k) {
    ck_cautious_apply(p, b, first, n, k);
}

#endif
