// Helpers shared by the kernel files (private to CKernels). Every multiply and add in the
// kernels that include this rounds separately: each .c file turns contraction off itself.
#ifndef CK_SHARED_H
#define CK_SHARED_H

#include <stdint.h>
#include <string.h>

// ---- scalar, identical to BFloat16.toFloat/fromFloat and Reference.sign ----

static inline float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t f32_to_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if (x != x) return (uint16_t)((u >> 16) | 0x0040);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

static inline float sign1(float c) { return c > 0 ? 1.0f : (c < 0 ? -1.0f : 0.0f); }

#if defined(__x86_64__)
#include <immintrin.h>

#define CK_AVX512 __attribute__((target("avx512f,avx512bw")))

// ---- 16-lane AVX-512 helpers ----

// Exact widening of 16 bf16 values.
static inline CK_AVX512 __m512 widen16(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

static inline CK_AVX512 __m256i load16(const uint16_t *src) { return _mm256_loadu_si256((const __m256i *)src); }

// The first `rem` (< 16) bf16 values, zeros after (AVX512BW: 16-bit masked load).
static inline CK_AVX512 __m256i load16_tail(const uint16_t *src, __mmask16 rem) {
    return _mm512_castsi512_si256(_mm512_maskz_loadu_epi16((__mmask32)rem, src));
}

// Round to nearest even; the bf16 bits end up in the low half of each 32-bit lane.
static inline CK_AVX512 __m512i round16(__m512 x) {
    __m512i u = _mm512_castps_si512(x);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    __m512i r = _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), lsb);
    __m512i q = _mm512_or_si512(u, _mm512_set1_epi32(0x00400000));
    __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    return _mm512_srli_epi32(_mm512_mask_mov_epi32(r, nan, q), 16);
}

// Stores 16 rounded lanes as 16 bf16 values (vpmovdw; the lanes are already < 0x10000).
static inline CK_AVX512 void store16r(uint16_t *dst, __m512i r) {
    _mm256_storeu_si256((__m256i *)dst, _mm512_cvtepi32_epi16(r));
}

static inline CK_AVX512 void store16r_tail(uint16_t *dst, __m512i r, __mmask16 mask) {
    _mm512_mask_cvtepi32_storeu_epi16(dst, mask, r);
}

static inline CK_AVX512 __mmask16 tail_mask(ptrdiff_t rem) { return (__mmask16)((1u << rem) - 1u); }
#endif

#endif
