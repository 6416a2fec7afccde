// The GPT's elementwise kernels on AVX-512: GELU (tanh approximation) with the operation order of
// Model's SIMD8 bodies (GELU.swift, FastMath.swift's fastTanh), contraction off, so results are
// bitwise equal to them; the attention's softmax rows (fastExp's order per element; the sums in
// 16 lanes, so within rounding of the SIMD8 sums); LayerNorm rows (ckernels_layernorm.c: sums in
// 16 lanes, so within rounding of Model's SIMD8 LayerNorm, not bitwise equal). All require
// ck_cpu_has_avx512() == 1; n >= 0, any alignment.
#ifndef CKERNELS_GPT_H
#define CKERNELS_GPT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// out[i] = gelu(x[i]); out may be x.
void ck_gelu_avx512(float *out, const float *x, ptrdiff_t n);
/// out[i] = gelu(x[i]) and slope[i] = gelu'(x[i]) from the same tanh; slope may be x.
void ck_gelu_slope_avx512(float *out, float *slope, const float *x, ptrdiff_t n);
/// dx[i] = dout[i] * gelu'(x[i]) (the slope from x alone, as Model's geluGradVector); dx may be dout.
void ck_gelu_backward_avx512(float *dx, const float *x, const float *dout, ptrdiff_t n);
/// out[i] = bf16(gelu(x[i])) over bf16 bit patterns (widened exactly, rounded to nearest even):
/// bitwise what widening, ck_gelu_avx512 and ck_bf16_from_f32 give.
void ck_gelu_bf16_avx512(uint16_t *out, const uint16_t *x, ptrdiff_t n);
/// dx[i] = dout[i] * gelu'(x[i]), x bf16 bit patterns (widened exactly): bitwise what widening
/// and ck_gelu_backward_avx512 give; dx may be dout.
void ck_gelu_backward_bf16_avx512(float *dx, const uint16_t *x, const float *dout, ptrdiff_t n);
/// dx[i] = dout[i] * slope[i]; dx may be dout.
void ck_multiply_avx512(float *dx, const float *dout, const float *slope, ptrdiff_t n);
/// max of row[0..<n], n >= 1.
float ck_row_max_avx512(const float *row, ptrdiff_t n);
/// row[j] = exp(row[j] - shift) for j < n, 0 for n <= j < width; returns the sum of the exponentials.
float ck_exp_row_avx512(float *row, ptrdiff_t n, float shift, ptrdiff_t width);
/// LayerNorm forward over N rows of C (C >= 1): mean[n], rstd[n] = 1 / sqrt(var + eps) and
/// out = (x - mean) * rstd * w.
void ck_layernorm_forward_avx512(float *out, float *mean, float *rstd, const float *x, const float *w,
                                 ptrdiff_t N, ptrdiff_t C, float eps);
/// The same with the output written as bf16 bit patterns (rounded to nearest even): bitwise
/// what ck_layernorm_forward_avx512 and ck_bf16_from_f32 give.
void ck_layernorm_forward_bf16_avx512(uint16_t *out, float *mean, float *rstd, const float *x, const float *w,
                                      ptrdiff_t N, ptrdiff_t C, float eps);
/// LayerNorm backward over N rows of C (C >= 1), xhat = (x - mean) * rstd, g = dout * w:
/// dx += rstd * (g - mean_c(g) - xhat * mean_c(g * xhat)) per row (accumulates), and
/// dw = sum over the N rows, in row order from 0, of dout * xhat (overwritten).
void ck_layernorm_backward_avx512(float *dx, float *dw, const float *dout, const float *x, const float *w,
                                  const float *mean, const float *rstd, ptrdiff_t N, ptrdiff_t C);

#ifdef __cplusplus
}
#endif

#endif
