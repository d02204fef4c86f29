/*
 * raft-ns runtime: the LSTM step of many nodes in one call (runtime/batch.ts), bit-identical to one rt_step
 * (step.c) per node. Every slot holds one node's state; rt_step_batch(n) steps the n slots listed in IDX.
 *
 * Why it is faster than n calls of step.c: the weights are read once per block for all n slots while they
 * sit in the L1 cache, and the int8 build keeps the codes already widened to float32 (exact: |q| ≤ 127),
 * so no lane is unpacked per step. Per lane the arithmetic is step.c's, operation for operation and in the
 * same order (the shared lstm-math.h); float32 has one correctly rounded result per operation, so the
 * outputs and states are the same bits.
 *
 * Memory: slot s owns HS[s] (h), CS[s] (c), XS[s] (its 4 features), YS[s] (q, l) and OK[s] (1 when every h
 * and c is finite after its step, the per-node path's LstmState.isFinite). No imports, no allocation.
 */
#include "lstm-math.h"

#define MAX_SLOTS 128

#ifdef INT8
static float WQ[NB * R * 16] __attribute__((aligned(16))); /* int8 codes as floats, step.c's block order */
static float SX[NB * 16] __attribute__((aligned(16)));
static float SH[NB * 16] __attribute__((aligned(16)));
static float B[NB * 16] __attribute__((aligned(16)));
float *rt_sx(void) { return SX; }
float *rt_sh(void) { return SH; }
float *rt_bias(void) { return B; }
float *rt_weights(void) { return WQ; }
#else
static float W[NB * BLOCK] __attribute__((aligned(16)));
float *rt_weights(void) { return W; }
#endif
static float HEAD[H * 2 + 2] __attribute__((aligned(16)));
static float HS[MAX_SLOTS * H] __attribute__((aligned(16)));
static float CS[MAX_SLOTS * H] __attribute__((aligned(16)));
static float HN[MAX_SLOTS * H] __attribute__((aligned(16)));
static float XS[MAX_SLOTS * F] __attribute__((aligned(16)));
static float YS[MAX_SLOTS * 2] __attribute__((aligned(16)));
static int OK[MAX_SLOTS];
static int IDX[MAX_SLOTS];

float *rt_head(void) { return HEAD; }
float *rt_h(void) { return HS; }
float *rt_c(void) { return CS; }
float *rt_x(void) { return XS; }
float *rt_y(void) { return YS; }
int *rt_ok(void) { return OK; }
int *rt_idx(void) { return IDX; }
int rt_max_slots(void) { return MAX_SLOTS; }

/* One block (4 units × 4 gates) of one slot: step.c's loop body with the slot's x, h and c. */
static inline void step_block(int b, const float *x, const float *h, float *c, float *hn) {
#ifdef INT8
  const float *w = WQ + b * R * 16;
  const v128_t zero = wasm_f32x4_splat(0.0f);
  v128_t xi = zero, xf = zero, xg = zero, xo = zero, hi_ = zero, hf = zero, hg = zero, ho = zero;
  for (int r = 0; r < F; r++) {
    v128_t s = wasm_f32x4_splat(x[r]);
    const float *row = w + r * 16;
    xi = wasm_f32x4_add(xi, wasm_f32x4_mul(s, wasm_v128_load(row)));
    xf = wasm_f32x4_add(xf, wasm_f32x4_mul(s, wasm_v128_load(row + 4)));
    xg = wasm_f32x4_add(xg, wasm_f32x4_mul(s, wasm_v128_load(row + 8)));
    xo = wasm_f32x4_add(xo, wasm_f32x4_mul(s, wasm_v128_load(row + 12)));
  }
  for (int r = F; r < R; r++) {
    v128_t s = wasm_f32x4_splat(h[r - F]);
    const float *row = w + r * 16;
    hi_ = wasm_f32x4_add(hi_, wasm_f32x4_mul(s, wasm_v128_load(row)));
    hf = wasm_f32x4_add(hf, wasm_f32x4_mul(s, wasm_v128_load(row + 4)));
    hg = wasm_f32x4_add(hg, wasm_f32x4_mul(s, wasm_v128_load(row + 8)));
    ho = wasm_f32x4_add(ho, wasm_f32x4_mul(s, wasm_v128_load(row + 12)));
  }
  const float *sx = SX + b * 16, *sh = SH + b * 16, *bb = B + b * 16;
#define Z(k, xa, ha) wasm_f32x4_add(wasm_v128_load(bb + k), wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(sx + k), xa), wasm_f32x4_mul(wasm_v128_load(sh + k), ha)))
  v128_t ai = Z(0, xi, hi_), af = Z(4, xf, hf), ag = Z(8, xg, hg), ao = Z(12, xo, ho);
#undef Z
#else
  const float *w = W + b * BLOCK;
  const float *bias = w + R * 16;
  v128_t ai = wasm_v128_load(bias), af = wasm_v128_load(bias + 4), ag = wasm_v128_load(bias + 8), ao = wasm_v128_load(bias + 12);
  for (int r = 0; r < R; r++) { /* step.c's IN[r] is x[r], then h[r − F] */
    v128_t s = wasm_f32x4_splat(r < F ? x[r] : h[r - F]);
    const float *row = w + r * 16;
    ai = wasm_f32x4_add(ai, wasm_f32x4_mul(s, wasm_v128_load(row)));
    af = wasm_f32x4_add(af, wasm_f32x4_mul(s, wasm_v128_load(row + 4)));
    ag = wasm_f32x4_add(ag, wasm_f32x4_mul(s, wasm_v128_load(row + 8)));
    ao = wasm_f32x4_add(ao, wasm_f32x4_mul(s, wasm_v128_load(row + 12)));
  }
#endif
  v128_t cn = wasm_f32x4_add(wasm_f32x4_mul(vsigmoid(af), wasm_v128_load(c + 4 * b)), wasm_f32x4_mul(vsigmoid(ai), vtanh(ag)));
  wasm_v128_store(c + 4 * b, cn);
  wasm_v128_store(hn + 4 * b, wasm_f32x4_mul(vsigmoid(ao), vtanh(cn)));
}

void rt_step_batch(int n) {
  if (n > MAX_SLOTS) n = MAX_SLOTS;
  /* Block-major: block b's 4.3 KB of weights serve every slot before the next block is read. Each slot's h
   * is read whole by every block, so the new h goes to HN until all blocks are done (step.c's HN too). */
  for (int b = 0; b < NB; b++) {
    for (int j = 0; j < n; j++) {
      const int s = IDX[j];
      step_block(b, XS + s * F, HS + s * H, CS + s * H, HN + s * H);
    }
  }
  for (int j = 0; j < n; j++) {
    const int s = IDX[j];
    float *h = HS + s * H;
    const float *hn = HN + s * H;
    const float *c = CS + s * H;
    v128_t q = wasm_f32x4_splat(0.0f), l = wasm_f32x4_splat(0.0f);
    v128_t bad = wasm_i32x4_splat(0);
    for (int k = 0; k < H; k += 4) {
      v128_t hv = wasm_v128_load(hn + k);
      wasm_v128_store(h + k, hv);
      v128_t w01 = wasm_v128_load(HEAD + 2 * k), w23 = wasm_v128_load(HEAD + 2 * k + 4);
      v128_t wq = wasm_i32x4_shuffle(w01, w23, 0, 2, 4, 6), wl = wasm_i32x4_shuffle(w01, w23, 1, 3, 5, 7);
      q = wasm_f32x4_add(q, wasm_f32x4_mul(hv, wq));
      l = wasm_f32x4_add(l, wasm_f32x4_mul(hv, wl));
      /* v − v is NaN exactly when v is NaN or ±∞ */
      v128_t dh = wasm_f32x4_sub(hv, hv), cv = wasm_v128_load(c + k), dc = wasm_f32x4_sub(cv, cv);
      bad = wasm_v128_or(bad, wasm_v128_or(wasm_f32x4_ne(dh, dh), wasm_f32x4_ne(dc, dc)));
    }
    YS[2 * s] = HEAD[2 * H] + wasm_f32x4_extract_lane(q, 0) + wasm_f32x4_extract_lane(q, 1) + wasm_f32x4_extract_lane(q, 2) + wasm_f32x4_extract_lane(q, 3);
    YS[2 * s + 1] = HEAD[2 * H + 1] + wasm_f32x4_extract_lane(l, 0) + wasm_f32x4_extract_lane(l, 1) + wasm_f32x4_extract_lane(l, 2) + wasm_f32x4_extract_lane(l, 3);
    OK[s] = !wasm_v128_any_true(bad);
  }
}
