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

/*
 * Gates → (c, h) of two (block, slot) pairs, block b of (c, hn) and block b2 of (c2, hn2), from their
 * pre-activations: step.c's last three lines for each, in its order, the two side by side so that their
 * independent chains of activations overlap (one alone waits on each step's latency).
 */
static inline void finish_block2(int b, v128_t ai, v128_t af, v128_t ag, v128_t ao, float *c, float *hn,
                                 int b2, v128_t bi, v128_t bf, v128_t bg, v128_t bo, float *c2, float *hn2) {
  v128_t sfa = vsigmoid(af), sfb = vsigmoid(bf);
  v128_t sia = vsigmoid(ai), sib = vsigmoid(bi);
  v128_t tga = vtanh(ag), tgb = vtanh(bg);
  v128_t cna = wasm_f32x4_add(wasm_f32x4_mul(sfa, wasm_v128_load(c + 4 * b)), wasm_f32x4_mul(sia, tga));
  v128_t cnb = wasm_f32x4_add(wasm_f32x4_mul(sfb, wasm_v128_load(c2 + 4 * b2)), wasm_f32x4_mul(sib, tgb));
  wasm_v128_store(c + 4 * b, cna);
  wasm_v128_store(c2 + 4 * b2, cnb);
  v128_t soa = vsigmoid(ao), sob = vsigmoid(bo);
  v128_t tca = vtanh(cna), tcb = vtanh(cnb);
  wasm_v128_store(hn + 4 * b, wasm_f32x4_mul(soa, tca));
  wasm_v128_store(hn2 + 4 * b2, wasm_f32x4_mul(sob, tcb));
}

/* acc += s · row for one row of 16 weights (4 gates × 4 units) */
#define ROW(acc_i, acc_f, acc_g, acc_o, s, w0, w1, w2, w3)  \
  do {                                                     \
    acc_i = wasm_f32x4_add(acc_i, wasm_f32x4_mul(s, w0));  \
    acc_f = wasm_f32x4_add(acc_f, wasm_f32x4_mul(s, w1));  \
    acc_g = wasm_f32x4_add(acc_g, wasm_f32x4_mul(s, w2));  \
    acc_o = wasm_f32x4_add(acc_o, wasm_f32x4_mul(s, w3));  \
  } while (0)

/*
 * One block (4 units × 4 gates) of two slots a and b. Each slot's sums are step.c's, in its order; two slots share each weight
 * load, and their independent sums keep the adders busy (one slot's chain waits on each add's latency).
 */
static inline void step_block2(int b, int sa, int sb) {
  const float *xa = XS + sa * F, *xb = XS + sb * F, *ha = HS + sa * H, *hb = HS + sb * H;
#ifdef INT8
  const float *w = WQ + b * R * 16;
  const v128_t zero = wasm_f32x4_splat(0.0f);
  v128_t p0 = zero, p1 = zero, p2 = zero, p3 = zero, q0 = zero, q1 = zero, q2 = zero, q3 = zero;
  for (int r = 0; r < F; r++) {
    const float *row = w + r * 16;
    v128_t w0 = wasm_v128_load(row), w1 = wasm_v128_load(row + 4), w2 = wasm_v128_load(row + 8), w3 = wasm_v128_load(row + 12);
    v128_t s = wasm_f32x4_splat(xa[r]), t = wasm_f32x4_splat(xb[r]);
    ROW(p0, p1, p2, p3, s, w0, w1, w2, w3);
    ROW(q0, q1, q2, q3, t, w0, w1, w2, w3);
  }
  /* the x sums wait in memory while the h sums use the registers */
  v128_t xs[8] = {p0, p1, p2, p3, q0, q1, q2, q3};
  p0 = p1 = p2 = p3 = q0 = q1 = q2 = q3 = zero;
  for (int r = F; r < R; r++) {
    const float *row = w + r * 16;
    v128_t w0 = wasm_v128_load(row), w1 = wasm_v128_load(row + 4), w2 = wasm_v128_load(row + 8), w3 = wasm_v128_load(row + 12);
    v128_t s = wasm_f32x4_splat(ha[r - F]), t = wasm_f32x4_splat(hb[r - F]);
    ROW(p0, p1, p2, p3, s, w0, w1, w2, w3);
    ROW(q0, q1, q2, q3, t, w0, w1, w2, w3);
  }
  const float *sx = SX + b * 16, *sh = SH + b * 16, *bb = B + b * 16;
#define Z(k, xsum, hsum) wasm_f32x4_add(wasm_v128_load(bb + k), wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(sx + k), xsum), wasm_f32x4_mul(wasm_v128_load(sh + k), hsum)))
  finish_block2(b, Z(0, xs[0], p0), Z(4, xs[1], p1), Z(8, xs[2], p2), Z(12, xs[3], p3), CS + sa * H, HN + sa * H,
                b, Z(0, xs[4], q0), Z(4, xs[5], q1), Z(8, xs[6], q2), Z(12, xs[7], q3), CS + sb * H, HN + sb * H);
#undef Z
#else
  const float *w = W + b * BLOCK;
  const float *bias = w + R * 16;
  v128_t p0 = wasm_v128_load(bias), p1 = wasm_v128_load(bias + 4), p2 = wasm_v128_load(bias + 8), p3 = wasm_v128_load(bias + 12);
  v128_t q0 = p0, q1 = p1, q2 = p2, q3 = p3;
  for (int r = 0; r < R; r++) { /* step.c's IN[r] is x[r], then h[r − F] */
    const float *row = w + r * 16;
    v128_t w0 = wasm_v128_load(row), w1 = wasm_v128_load(row + 4), w2 = wasm_v128_load(row + 8), w3 = wasm_v128_load(row + 12);
    v128_t s = wasm_f32x4_splat(r < F ? xa[r] : ha[r - F]), t = wasm_f32x4_splat(r < F ? xb[r] : hb[r - F]);
    ROW(p0, p1, p2, p3, s, w0, w1, w2, w3);
    ROW(q0, q1, q2, q3, t, w0, w1, w2, w3);
  }
  finish_block2(b, p0, p1, p2, p3, CS + sa * H, HN + sa * H, b, q0, q1, q2, q3, CS + sb * H, HN + sb * H);
#endif
}

/*
 * Blocks b and b + 1 of one slot sl: the odd slot of a batch. Alone, one block's 4 sums are 4 chains of
 * dependent adds, each waiting on the latency of the last; two blocks of the slot are independent (both read
 * the slot's old h, each writes its own units of c and HN), so their 8 chains run side by side. Each sum is
 * step.c's, in its order.
 */
static inline void step_blocks_x2(int b, int sl) {
  const float *x = XS + sl * F, *h = HS + sl * H;
  float *c = CS + sl * H, *hn = HN + sl * H;
#ifdef INT8
  const float *wa = WQ + b * R * 16, *wb = wa + R * 16;
  const v128_t zero = wasm_f32x4_splat(0.0f);
  v128_t p0 = zero, p1 = zero, p2 = zero, p3 = zero, q0 = zero, q1 = zero, q2 = zero, q3 = zero;
  for (int r = 0; r < F; r++) {
    v128_t s = wasm_f32x4_splat(x[r]);
    const float *ra = wa + r * 16, *rb = wb + r * 16;
    ROW(p0, p1, p2, p3, s, wasm_v128_load(ra), wasm_v128_load(ra + 4), wasm_v128_load(ra + 8), wasm_v128_load(ra + 12));
    ROW(q0, q1, q2, q3, s, wasm_v128_load(rb), wasm_v128_load(rb + 4), wasm_v128_load(rb + 8), wasm_v128_load(rb + 12));
  }
  v128_t xs[8] = {p0, p1, p2, p3, q0, q1, q2, q3};
  p0 = p1 = p2 = p3 = q0 = q1 = q2 = q3 = zero;
  for (int r = F; r < R; r++) {
    v128_t s = wasm_f32x4_splat(h[r - F]);
    const float *ra = wa + r * 16, *rb = wb + r * 16;
    ROW(p0, p1, p2, p3, s, wasm_v128_load(ra), wasm_v128_load(ra + 4), wasm_v128_load(ra + 8), wasm_v128_load(ra + 12));
    ROW(q0, q1, q2, q3, s, wasm_v128_load(rb), wasm_v128_load(rb + 4), wasm_v128_load(rb + 8), wasm_v128_load(rb + 12));
  }
  const float *sx = SX + b * 16, *sh = SH + b * 16, *bb = B + b * 16;
#define Z(k, xsum, hsum) wasm_f32x4_add(wasm_v128_load(bb + k), wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(sx + k), xsum), wasm_f32x4_mul(wasm_v128_load(sh + k), hsum)))
  const float *sx2 = sx + 16, *sh2 = sh + 16, *bb2 = bb + 16;
#define Z2(k, xsum, hsum) wasm_f32x4_add(wasm_v128_load(bb2 + k), wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(sx2 + k), xsum), wasm_f32x4_mul(wasm_v128_load(sh2 + k), hsum)))
  finish_block2(b, Z(0, xs[0], p0), Z(4, xs[1], p1), Z(8, xs[2], p2), Z(12, xs[3], p3), c, hn,
                b + 1, Z2(0, xs[4], q0), Z2(4, xs[5], q1), Z2(8, xs[6], q2), Z2(12, xs[7], q3), c, hn);
#undef Z2
#undef Z
#else
  const float *wa = W + b * BLOCK, *wb = wa + BLOCK;
  const float *ba = wa + R * 16, *bb = wb + R * 16;
  v128_t p0 = wasm_v128_load(ba), p1 = wasm_v128_load(ba + 4), p2 = wasm_v128_load(ba + 8), p3 = wasm_v128_load(ba + 12);
  v128_t q0 = wasm_v128_load(bb), q1 = wasm_v128_load(bb + 4), q2 = wasm_v128_load(bb + 8), q3 = wasm_v128_load(bb + 12);
  for (int r = 0; r < R; r++) { /* step.c's IN[r] is x[r], then h[r − F] */
    v128_t s = wasm_f32x4_splat(r < F ? x[r] : h[r - F]);
    const float *ra = wa + r * 16, *rb = wb + r * 16;
    ROW(p0, p1, p2, p3, s, wasm_v128_load(ra), wasm_v128_load(ra + 4), wasm_v128_load(ra + 8), wasm_v128_load(ra + 12));
    ROW(q0, q1, q2, q3, s, wasm_v128_load(rb), wasm_v128_load(rb + 4), wasm_v128_load(rb + 8), wasm_v128_load(rb + 12));
  }
  finish_block2(b, p0, p1, p2, p3, c, hn, b + 1, q0, q1, q2, q3, c, hn);
#endif
}

void rt_step_batch(int n) {
  if (n > MAX_SLOTS) n = MAX_SLOTS;
  /* Block-major: block b's 4.3 KB of weights serve every slot before the next block is read. Each slot's h
   * is read whole by every block, so the new h goes to HN until all blocks are done (step.c's HN too). */
  for (int b = 0; b < NB; b++) {
    int j = 0;
    for (; j + 1 < n; j += 2) step_block2(b, IDX[j], IDX[j + 1]);
    if (j < n && (b & 1) == 0) step_blocks_x2(b, IDX[j]); /* NB is even: blocks b and b + 1 */
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
