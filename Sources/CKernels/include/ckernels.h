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

#ifdef __cplusplus
}
#endif

#endif
