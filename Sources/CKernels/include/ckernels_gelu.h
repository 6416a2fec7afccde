// GELU (tanh approximation) on AVX-512 for the GPT's MLP: the operation order of Model's SIMD8
// bodies (GELU.swift, FastMath.swift's fastTanh), contraction off, so results are bitwise equal
// to them. All require ck_cpu_has_avx512() == 1; n >= 0, any alignment.
#ifndef CKERNELS_GELU_H
#define CKERNELS_GELU_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// out[i] = gelu(x[i]); out may be x.
void ck_gelu_avx512(float *out, const float *x, ptrdiff_t n);
/// out[i] = gelu(x[i]) and slope[i] = gelu'(x[i]) from the same tanh; slope may be x.
void ck_gelu_slope_avx512(float *out, float *slope, const float *x, ptrdiff_t n);
/// dx[i] = dout[i] * gelu'(x[i]) (the slope from x alone, as Model's geluGradVector); dx may be dout.
void ck_gelu_backward_avx512(float *dx, const float *x, const float *dout, ptrdiff_t n);
/// dx[i] = dout[i] * slope[i]; dx may be dout.
void ck_multiply_avx512(float *dx, const float *dout, const float *slope, ptrdiff_t n);

#ifdef __cplusplus
}
#endif

#endif
