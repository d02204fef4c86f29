/*
 * raft-ns runtime: the float32 SIMD arithmetic shared by the per-node step kernel (step.c) and the batched one
 * (batch.c). One definition, so both compute the same operations in the same order: their results are
 * bit-identical (IEEE float32 arithmetic is exact-rounded and WebAssembly has no fused multiply-add).
 */
#ifndef RAFT_NS_LSTM_MATH_H
#define RAFT_NS_LSTM_MATH_H
#include <wasm_simd128.h>

#define H 64
#define F 4
#define R (F + H)
#define NB (H / 4)
#define BLOCK ((R + 1) * 16)

/* e^x for 4 lanes: x = n·ln2 + r, |r| ≤ ln2/2, degree-6 polynomial for e^r (Cephes expf, relative error
 * ~2e-7), 2^n by adding n to the exponent bits. Inputs are clamped so 2^n stays a normal float. */
static inline v128_t vexp(v128_t x) {
  const v128_t hi = wasm_f32x4_splat(88.0f), lo = wasm_f32x4_splat(-87.0f);
  x = wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, x));
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  v128_t r2 = wasm_f32x4_mul(r, r);
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, r2), r), wasm_f32x4_splat(1.0f));
  v128_t e = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, e);
}

static inline v128_t vsigmoid(v128_t v) {
  const v128_t one = wasm_f32x4_splat(1.0f);
  return wasm_f32x4_div(one, wasm_f32x4_add(one, vexp(wasm_f32x4_neg(v))));
}

/* tanh(v) = 2σ(2v) − 1 */
static inline v128_t vtanh(v128_t v) {
  const v128_t one = wasm_f32x4_splat(1.0f);
  v128_t s = wasm_f32x4_div(one, wasm_f32x4_add(one, vexp(wasm_f32x4_neg(wasm_f32x4_add(v, v)))));
  return wasm_f32x4_sub(wasm_f32x4_add(s, s), one);
}

/* int32 lanes (|v| < 2^22) → float32 exactly, by the 1.5·2^23 bias trick: bits(1.5·2^23) + v is the float
 * 1.5·2^23 + v. Written with integer adds because clang 14 scalarizes a plain convert of widened int8 lanes. */
static inline v128_t i32_to_f32(v128_t v) {
  return wasm_f32x4_sub(wasm_i32x4_add(v, wasm_i32x4_splat(0x4B400000)), wasm_f32x4_splat(12582912.0f));
}
#endif
