// AVX2 and AVX-512 optimizer kernels for LionEngine, chosen at run time (see LionEngine/KernelPath.swift).
// Same per-element operation order as LionEngine's `Reference` (no FMA, true division and sqrt,
// bf16 rounding to nearest even with NaN -> quiet NaN), so results are bitwise equal to it.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Per-step Lion constants; c1 = 1 - b1, c2 = 1 - b2, decay = 1 - lr*wd (computed by the caller).
typedef struct {
    float lr, b1, c1, b2, c2, decay, scale;
} CKLionConstants;

/// Per-step AdamW constants; bc1 = 1 - b1^t, bc2 = 1 - b2^t.
typedef struct {
    float lr, b1, c1, b2, c2, eps, decay, bc1, bc2, scale;
} CKAdamWConstants;

/// 1 when the CPU and OS support AVX2 (cpuid + xgetbv), else 0. Always 0 off x86-64.
int ck_cpu_has_avx2(void);

// The kernels below require ck_cpu_has_avx2() == 1; n >= 0, any alignment.
void ck_lion_fp32_avx2(float *p, const float *g, float *m, ptrdiff_t n, CKLionConstants k);
void ck_lion_bf16_avx2(float *p, const float *g, uint16_t *m, ptrdiff_t n, CKLionConstants k);
void ck_adamw_fp32_avx2(float *p, const float *g, float *m, float *v, ptrdiff_t n, CKAdamWConstants k);
void ck_adamw_bf16_avx2(float *p, const float *g, uint16_t *m, uint16_t *v, ptrdiff_t n, CKAdamWConstants k);

/// 1 when the CPU has AVX-512F and AVX-512BW and the OS saves opmask/ZMM state (XCR0 bits
/// 1, 2, 5, 6, 7), else 0. Always 0 off x86-64.
int ck_cpu_has_avx512(void);

// The kernels below require ck_cpu_has_avx512() == 1; n >= 0, any alignment; same results as _avx2.
// (No Lion fp32 version: the avx512 path uses ck_lion_fp32_avx2, see KernelPath.swift.)
void ck_lion_bf16_avx512(float *p, const float *g, uint16_t *m, ptrdiff_t n, CKLionConstants k);
void ck_adamw_fp32_avx512(float *p, const float *g, float *m, float *v, ptrdiff_t n, CKAdamWConstants k);
void ck_adamw_bf16_avx512(float *p, const float *g, uint16_t *m, uint16_t *v, ptrdiff_t n, CKAdamWConstants k);

// ---- fp32 -> bf16 narrowing of buffers (Model's bf16 matmul operands) ----

/// dst[i] = the bf16 bits of src[i], rounded to nearest even; NaN stays NaN (quieted, sign
/// kept); subnormals round like any value. n >= 0. Portable C (any CPU).
void ck_bf16_from_f32(const float *src, uint16_t *dst, ptrdiff_t n);
/// The same, 16 lanes at a time (requires ck_cpu_has_avx512() == 1); bitwise equal to
/// ck_bf16_from_f32 (not vcvtneps2bf16, which flushes subnormals to zero).
void ck_bf16_from_f32_avx512(const float *src, uint16_t *dst, ptrdiff_t n);

/// dst[i] = the fp32 value of bf16 bits src[i] (exact), 16 lanes at a time (requires
/// ck_cpu_has_avx512() == 1).
void ck_f32_from_bf16_avx512(const uint16_t *src, float *dst, ptrdiff_t n);

// ---- fp32 transpose (ckernels_transpose.c; the attention's key and value tiles) ----

/// dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols (requires ck_cpu_has_avx512() == 1);
/// moves bits only, so equal to a scalar transpose. rows, cols >= 0, any alignment; no overlap.
void ck_transpose_avx512(const float *src, ptrdiff_t lds, float *dst, ptrdiff_t ldd, ptrdiff_t rows, ptrdiff_t cols);

// ---- Sign-vote Lion (ckernels_signvote.c) ----

/// Per-step constants of the voter's kernel; c1 = 1 - b1, c2 = 1 - b2.
typedef struct {
    float b1, c1, b2, c2, scale;
} CKSignVoteConstants;

/// Vote counters have at most this many bits: up to 2^16 - 1 voters.
#define CK_SIGNVOTE_MAX_COUNTER_BITS 16

/// The voter: per element gs = g*scale, c = b1*m + c1*gs, m = b2*m + c2*gs; bit i of out
/// (ceil(n/64) words, bits past n zero) is 1 when c > 0, or when c == 0 and p > 0 (a voter with
/// no signal votes toward zero), else 0. n >= 0.
void ck_signvote_pack(const float *p, const float *g, float *m, uint64_t *out, ptrdiff_t n, CKSignVoteConstants k);
/// The same on AVX-512F/BW (requires ck_cpu_has_avx512() == 1).
void ck_signvote_pack_avx512(const float *p, const float *g, float *m, uint64_t *out, ptrdiff_t n, CKSignVoteConstants k);

/// The owner's majority: planes[q*stride + j] is voter q's word j; per bit, with count = the
/// voters whose bit is 1, sign = 2*count > voters, nonzero = 2*count != voters (a tie gives 0).
/// Bit-sliced counters over 64-bit words. 1 <= voters < 2^16.
void ck_signvote_vote(const uint64_t *planes, ptrdiff_t stride, int voters, ptrdiff_t words,
                      uint64_t *sign, uint64_t *nonzero);
/// Bits of the vote counters for `voters`: the width of `voters` (2 for 3, 3 for 4).
int ck_signvote_counter_bits(int voters);
/// The counts themselves (`--vote average`), as bit planes: counters[b*counterStride + j]
/// holds bit b of the counts of word j, for b < ck_signvote_counter_bits(voters).
void ck_signvote_counts(const uint64_t *planes, ptrdiff_t stride, int voters, ptrdiff_t words,
                        uint64_t *counters, ptrdiff_t counterStride);
/// `--vote average`: p[i] = p[i]*decay - lr*v, v = (float)(2*count - voters) / voters, the
/// count of element i from bit first + i of each counter plane (planes counterStride apart).
void ck_signvote_apply_average(float *p, const uint64_t *counters, ptrdiff_t counterStride, int voters,
                               ptrdiff_t first, ptrdiff_t n, float lr, float decay);
/// The same on AVX-512F/BW (requires ck_cpu_has_avx512() == 1).
void ck_signvote_apply_average_avx512(float *p, const uint64_t *counters, ptrdiff_t counterStride, int voters,
                                      ptrdiff_t first, ptrdiff_t n, float lr, float decay);

/// p[i] = p[i]*decay - lr*v, v = +1 (sign bit 1), -1 (sign bit 0) or 0 (nonzero bit 0), the
/// bits of element i at bit first + i of sign and nonzero. n >= 0, lr >= 0.
void ck_signvote_apply(float *p, const uint64_t *sign, const uint64_t *nonzero, ptrdiff_t first, ptrdiff_t n,
                       float lr, float decay);
/// The same on AVX-512F/BW (requires ck_cpu_has_avx512() == 1).
void ck_signvote_apply_avx512(float *p, const uint64_t *sign, const uint64_t *nonzero, ptrdiff_t first, ptrdiff_t n,
                              float lr, float decay);

// ---- Cautious Lion (ckernels_cautious.c) ----

/// The sign pass's three bit planes (bit i of plane x = element first + i; 64 per word).
typedef struct {
    uint64_t *positive, *moving, *aligned;
} CKCautiousBits;

typedef struct {
    const uint64_t *positive, *moving, *aligned;
} CKCautiousReadBits;

/// The apply pass's constants: lrAligned = lr * (1/mean), lrOther = lr * (factor/mean), decay = 1 - lr*wd.
typedef struct {
    float lrAligned, lrOther, decay;
} CKCautiousApply;

/// Sign pass over one piece: gs = g*scale, c = b1*m + c1*gs, m = b2*m + c2*gs; bits positive
/// (c > 0), moving (c != 0, NaN not), aligned (sign(c)*gs > 0) of element i at bit first + i.
/// Returns the aligned count. Uses k.b1, c1, b2, c2, scale. n >= 0.
int64_t ck_cautious_sign_fp32(const float *g, float *m, CKCautiousBits b, ptrdiff_t first, ptrdiff_t n, CKLionConstants k);
int64_t ck_cautious_sign_bf16(const float *g, uint16_t *m, CKCautiousBits b, ptrdiff_t first, ptrdiff_t n, CKLionConstants k);
/// Apply pass: p = p*decay - d, d = +-lrAligned (aligned), +-lrOther (moving, not aligned), +0 (not moving).
void ck_cautious_apply(float *p, CKCautiousReadBits b, ptrdiff_t first, ptrdiff_t n, CKCautiousApply k);
/// The same on AVX-512F/BW (require ck_cpu_has_avx512() == 1).
int64_t ck_cautious_sign_fp32_avx512(const float *g, float *m, CKCautiousBits b, ptrdiff_t first, ptrdiff_t n, CKLionConstants k);
int64_t ck_cautious_sign_bf16_avx512(const float *g, uint16_t *m, CKCautiousBits b, ptrdiff_t first, ptrdiff_t n, CKLionConstants k);
void ck_cautious_apply_avx512(float *p, CKCautiousReadBits b, ptrdiff_t first, ptrdiff_t n, CKCautiousApply k);

#ifdef __cplusplus
}
#endif

#endif
