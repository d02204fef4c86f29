/*
 * raft-ns runtime: one LSTM step (docs/CONTRACTS.md §3) in WebAssembly SIMD, float32.
 *
 * Layout: the 256 gate columns are regrouped into 16 blocks of 4 units; a block's 16 columns are
 * [i(u..u+3), f(u..u+3), g(u..u+3), o(u..u+3)], so one f32x4 accumulator holds one gate of 4 units and the
 * activations, c and h updates of those units run as 4-lane vectors straight from the accumulators. Each
 * block stores its 68 input rows (4 features, then 64 recurrent) of 16 floats, then its 16 biases:
 * W[block][row][16], contiguous, read once per step.
 *
 * The JS side (runtime/wasm-kernel.ts) writes x and h into IN[0..68) and c into C, calls rt_step, and reads
 * h back from IN[4..68), c from C and (q, l) from Y. No imports, no allocation, no libc.
 *
 * Built twice: without INT8, W holds float32 weights (the float path; 2 pages of memory). With -DINT8, W
 * holds the artifact's int8 codes and the per-column scales are applied once per sum instead of once per
 * weight: z_c = b_c + scaleW_c·Σ_k x_k·qW_kc + scaleU_c·Σ_k h_k·qU_kc — the same value as with the
 * dequantized weights fround(q·scale) up to float32 rounding, in 1 page of memory (17 KB of weights).
 */
#include "lstm-math.h"

#ifdef INT8
static signed char W[NB * R * 16] __attribute__((aligned(16)));
static float SX[NB * 16] __attribute__((aligned(16))); /* lstm/kernel.scale, block order */
static float SH[NB * 16] __attribute__((aligned(16))); /* lstm/recurrent_kernel.scale, block order */
static float B[NB * 16] __attribute__((aligned(16)));
float *rt_sx(void) { return SX; }
float *rt_sh(void) { return SH; }
float *rt_bias(void) { return B; }
signed char *rt_weights(void) { return W; }
#else
static float W[NB * BLOCK] __attribute__((aligned(16)));
float *rt_weights(void) { return W; }
#endif
static float HEAD[H * 2 + 2] __attribute__((aligned(16)));
static float IN[R] __attribute__((aligned(16)));
static float C[H] __attribute__((aligned(16)));
static float HN[H] __attribute__((aligned(16)));
static float Y[2] __attribute__((aligned(16)));

float *rt_head(void) { return HEAD; }
float *rt_in(void) { return IN; }
float *rt_c(void) { return C; }
float *rt_y(void) { return Y; }

#ifdef INT8
/* acc[0..3] += s · float(q[16]) for one row of 16 int8 codes (4 gates × 4 units) */
#define ROW_I8(acc_i, acc_f, acc_g, acc_o, s, ptr)                                  \
  do {                                                                             \
    v128_t q = wasm_v128_load(ptr);                                                \
    v128_t lo = wasm_i16x8_extend_low_i8x16(q), hi = wasm_i16x8_extend_high_i8x16(q); \
    acc_i = wasm_f32x4_add(acc_i, wasm_f32x4_mul(s, i32_to_f32(wasm_i32x4_extend_low_i16x8(lo))));  \
    acc_f = wasm_f32x4_add(acc_f, wasm_f32x4_mul(s, i32_to_f32(wasm_i32x4_extend_high_i16x8(lo)))); \
    acc_g = wasm_f32x4_add(acc_g, wasm_f32x4_mul(s, i32_to_f32(wasm_i32x4_extend_low_i16x8(hi))));  \
    acc_o = wasm_f32x4_add(acc_o, wasm_f32x4_mul(s, i32_to_f32(wasm_i32x4_extend_high_i16x8(hi)))); \
  } while (0)
#endif

void rt_step(void) {
  for (int b = 0; b < NB; b++) {
#ifdef INT8
    const signed char *w = W + b * R * 16;
    const v128_t zero = wasm_f32x4_splat(0.0f);
    v128_t xi = zero, xf = zero, xg = zero, xo = zero, hi_ = zero, hf = zero, hg = zero, ho = zero;
    for (int r = 0; r < F; r++) {
      v128_t s = wasm_f32x4_splat(IN[r]);
      ROW_I8(xi, xf, xg, xo, s, w + r * 16);
    }
    for (int r = F; r < R; r++) {
      v128_t s = wasm_f32x4_splat(IN[r]);
      ROW_I8(hi_, hf, hg, ho, s, w + r * 16);
    }
    const float *sx = SX + b * 16, *sh = SH + b * 16, *bb = B + b * 16;
#define Z(k, xa, ha) wasm_f32x4_add(wasm_v128_load(bb + k), wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(sx + k), xa), wasm_f32x4_mul(wasm_v128_load(sh + k), ha)))
    v128_t ai = Z(0, xi, hi_), af = Z(4, xf, hf), ag = Z(8, xg, hg), ao = Z(12, xo, ho);
#undef Z
#else
    const float *w = W + b * BLOCK;
    const float *bias = w + R * 16;
    v128_t ai = wasm_v128_load(bias), af = wasm_v128_load(bias + 4), ag = wasm_v128_load(bias + 8), ao = wasm_v128_load(bias + 12);
    for (int r = 0; r < R; r++) {
      v128_t s = wasm_f32x4_splat(IN[r]);
      const float *row = w + r * 16;
      ai = wasm_f32x4_add(ai, wasm_f32x4_mul(s, wasm_v128_load(row)));
      af = wasm_f32x4_add(af, wasm_f32x4_mul(s, wasm_v128_load(row + 4)));
      ag = wasm_f32x4_add(ag, wasm_f32x4_mul(s, wasm_v128_load(row + 8)));
      ao = wasm_f32x4_add(ao, wasm_f32x4_mul(s, wasm_v128_load(row + 12)));
    }
#endif
    v128_t c = wasm_f32x4_add(wasm_f32x4_mul(vsigmoid(af), wasm_v128_load(C + 4 * b)), wasm_f32x4_mul(vsigmoid(ai), vtanh(ag)));
    wasm_v128_store(C + 4 * b, c);
    wasm_v128_store(HN + 4 * b, wasm_f32x4_mul(vsigmoid(ao), vtanh(c)));
  }
  v128_t q = wasm_f32x4_splat(0.0f), l = wasm_f32x4_splat(0.0f);
  for (int k = 0; k < H; k += 4) {
    v128_t h = wasm_v128_load(HN + k);
    wasm_v128_store(IN + F + k, h);
    /* HEAD is [H][2] row-major: lanes of two rows interleave (q, l, q, l) */
    v128_t w01 = wasm_v128_load(HEAD + 2 * k), w23 = wasm_v128_load(HEAD + 2 * k + 4);
    v128_t wq = wasm_i32x4_shuffle(w01, w23, 0, 2, 4, 6), wl = wasm_i32x4_shuffle(w01, w23, 1, 3, 5, 7);
    q = wasm_f32x4_add(q, wasm_f32x4_mul(h, wq));
    l = wasm_f32x4_add(l, wasm_f32x4_mul(h, wl));
  }
  Y[0] = HEAD[2 * H] + wasm_f32x4_extract_lane(q, 0) + wasm_f32x4_extract_lane(q, 1) + wasm_f32x4_extract_lane(q, 2) + wasm_f32x4_extract_lane(q, 3);
  Y[1] = HEAD[2 * H + 1] + wasm_f32x4_extract_lane(l, 0) + wasm_f32x4_extract_lane(l, 1) + wasm_f32x4_extract_lane(l, 2) + wasm_f32x4_extract_lane(l, 3);
}
