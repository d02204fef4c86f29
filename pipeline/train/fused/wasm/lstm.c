/*
 * raft-ns fused LSTM sequence kernel, WebAssembly SIMD (wasm32 + simd128). Same math and buffer layout as
 * ../kernel-ts.ts (read that file for the layout); the loss and dL/dy are computed in TypeScript and passed
 * in, so this file holds only the parts whose cost grows with B·T·H²: the whole-sequence forward and BPTT.
 *
 * Rebuild: pipeline/train/fused/wasm/build.sh (needs clang + wasm-ld; Debian: apt-get install clang lld).
 * The compiled bytes are committed as ../lstm-wasm.generated.ts so neither CI nor users need clang.
 *
 * Determinism: every loop runs in a fixed order with fixed blocking; no threads inside the module.
 * Allocation: none per step; the caller lays out one arena with lstm_layout() and reuses it.
 */
#include <wasm_simd128.h>

#define H 64
#define G 256
#define F 4
#define IN 68
#define OUTS 2
#define OFF_B (IN * G)
#define OFF_WD (OFF_B + G)
#define OFF_BD (OFF_WD + H * OUTS)
#define PARAM_COUNT (OFF_BD + OUTS)

typedef float f32;
extern unsigned char __heap_base;

void *memset(void *d, int c, unsigned long n) {
  unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}
void *memcpy(void *d, const void *s, unsigned long n) {
  unsigned char *p = d;
  const unsigned char *q = s;
  while (n--) *p++ = *q++;
  return d;
}

/* Arena pointers, set by lstm_layout(B, T). */
static f32 *params, *ut, *x, *h0, *c0, *y, *grads, *hT, *cT;
static f32 *inp, *gate, *cell, *tanhc, *hid, *dh, *dc;
static int cB, cT_;

static f32 *take(unsigned long *at, unsigned long floats) {
  f32 *p = (f32 *)*at;
  *at += ((floats * 4 + 15) / 16) * 16; /* 16-byte aligned for v128 loads */
  return p;
}

/* Lays out the arena for B samples of T steps; returns the end address (the caller grows memory to it). */
unsigned long lstm_layout(int B, int T) {
  unsigned long at = ((unsigned long)&__heap_base + 15) / 16 * 16;
  cB = B;
  cT_ = T;
  params = take(&at, PARAM_COUNT);
  ut = take(&at, G * H);
  grads = take(&at, PARAM_COUNT);
  x = take(&at, (unsigned long)B * T * F);
  h0 = take(&at, (unsigned long)B * H);
  c0 = take(&at, (unsigned long)B * H);
  y = take(&at, (unsigned long)B * T * OUTS);
  hT = take(&at, (unsigned long)B * H);
  cT = take(&at, (unsigned long)B * H);
  inp = take(&at, (unsigned long)B * T * IN);
  gate = take(&at, (unsigned long)B * T * G);
  cell = take(&at, (unsigned long)B * (T + 1) * H);
  tanhc = take(&at, (unsigned long)B * T * H);
  hid = take(&at, (unsigned long)B * T * H);
  dh = take(&at, (unsigned long)B * H);
  dc = take(&at, (unsigned long)B * H);
  return at;
}
f32 *lstm_params(void) { return params; }
f32 *lstm_grads(void) { return grads; }
f32 *lstm_x(void) { return x; }
f32 *lstm_h0(void) { return h0; }
f32 *lstm_c0(void) { return c0; }
f32 *lstm_y(void) { return y; } /* forward: y; before backward the caller overwrites it with dL/dy */
f32 *lstm_hT(void) { return hT; }
f32 *lstm_cT(void) { return cT; }

/*
 * e^x for 4 lanes (Cephes expf polynomial, relative error ~2e-7 over the clamped range). pmin/pmax map to
 * single minps/maxps; the NaN-exact f32x4.min/max lower to long sequences in V8 (forward 20% slower).
 */
static inline v128_t vexp(v128_t v) {
  v = wasm_f32x4_pmin(wasm_f32x4_pmax(v, wasm_f32x4_splat(-87.0f)), wasm_f32x4_splat(87.0f));
  /* n = round(v·log2 e) by the 1.5·2^23 trick: the sum's low mantissa bits hold n as an integer. */
  const v128_t magic = wasm_f32x4_splat(12582912.0f);
  v128_t kf = wasm_f32x4_add(wasm_f32x4_mul(v, wasm_f32x4_splat(1.44269504088896341f)), magic);
  v128_t n = wasm_f32x4_sub(kf, magic);
  v128_t r = wasm_f32x4_sub(v, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.9875691500e-4f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.3981999507e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(8.3334519073e-3f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(4.1665795894e-2f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(1.6666665459e-1f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, r), wasm_f32x4_splat(5.0000001201e-1f));
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, wasm_f32x4_mul(r, r)), r), wasm_f32x4_splat(1.0f));
  /* 2^n: (bits(kf) + 127) << 23 — the magic's own bits shift out of the word. */
  v128_t e = wasm_i32x4_shl(wasm_i32x4_add(kf, wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, e);
}
static inline v128_t vsigmoid(v128_t v) {
  v128_t one = wasm_f32x4_splat(1.0f);
  return wasm_f32x4_div(one, wasm_f32x4_add(one, vexp(wasm_f32x4_neg(v))));
}
/* tanh(v) = 1 − 2/(e^{2v} + 1): absolute error ~1e-7 near 0, exact saturation at ±1. */
static inline v128_t vtanh(v128_t v) {
  v128_t one = wasm_f32x4_splat(1.0f);
  v128_t e = vexp(wasm_f32x4_add(v, v));
  return wasm_f32x4_sub(one, wasm_f32x4_div(wasm_f32x4_splat(2.0f), wasm_f32x4_add(e, one)));
}

#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store(p, v)
#define FMA(a, b, c) wasm_f32x4_add(a, wasm_f32x4_mul(b, c))
#define SPLAT(p) wasm_v128_load32_splat(p)

/* Whole-sequence forward from (h0, c0) over x [B,T,4]; fills the stored state, y [B,T,2], hT, cT. */
void lstm_forward(void) {
  const int B = cB, T = cT_;
  for (int s = 0; s < B; s++)
    for (int u = 0; u < H; u++) cell[s * H + u] = c0[s * H + u];
  for (int t = 0; t < T; t++) {
    f32 *inT = inp + (unsigned long)t * B * IN;
    f32 *gT = gate + (unsigned long)t * B * G;
    for (int s = 0; s < B; s++) {
      f32 *r = inT + s * IN;
      const f32 *xr = x + ((unsigned long)s * T + t) * F;
      const f32 *hp = t == 0 ? h0 + s * H : hid + ((unsigned long)(t - 1) * B + s) * H;
      for (int k = 0; k < F; k++) r[k] = xr[k];
      for (int k = 0; k < H; k++) r[F + k] = hp[k];
    }
    /* z = inp · WU + b: blocks of 4 samples × 8 gate columns (8 accumulators). */
    int s = 0;
    for (; s + 4 <= B; s += 4) {
      const f32 *r0 = inT + s * IN, *r1 = r0 + IN, *r2 = r1 + IN, *r3 = r2 + IN;
      for (int j = 0; j < G; j += 8) {
        v128_t b0 = LD(params + OFF_B + j), b1 = LD(params + OFF_B + j + 4);
        v128_t a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
        const f32 *w = params + j;
        for (int k = 0; k < IN; k++, w += G) {
          v128_t w0 = LD(w), w1 = LD(w + 4);
          v128_t v0 = SPLAT(r0 + k), v1 = SPLAT(r1 + k), v2 = SPLAT(r2 + k), v3 = SPLAT(r3 + k);
          a00 = FMA(a00, v0, w0); a01 = FMA(a01, v0, w1);
          a10 = FMA(a10, v1, w0); a11 = FMA(a11, v1, w1);
          a20 = FMA(a20, v2, w0); a21 = FMA(a21, v2, w1);
          a30 = FMA(a30, v3, w0); a31 = FMA(a31, v3, w1);
        }
        f32 *o = gT + s * G + j;
        ST(o, a00); ST(o + 4, a01); ST(o + G, a10); ST(o + G + 4, a11);
        ST(o + 2 * G, a20); ST(o + 2 * G + 4, a21); ST(o + 3 * G, a30); ST(o + 3 * G + 4, a31);
      }
    }
    for (; s < B; s++) {
      const f32 *r0 = inT + s * IN;
      for (int j = 0; j < G; j += 8) {
        v128_t a0 = LD(params + OFF_B + j), a1 = LD(params + OFF_B + j + 4);
        const f32 *w = params + j;
        for (int k = 0; k < IN; k++, w += G) {
          v128_t v0 = SPLAT(r0 + k);
          a0 = FMA(a0, v0, LD(w)); a1 = FMA(a1, v0, LD(w + 4));
        }
        ST(gT + s * G + j, a0); ST(gT + s * G + j + 4, a1);
      }
    }
    /* Activations, cell update, hidden state. */
    for (int s2 = 0; s2 < B; s2++) {
      f32 *g0 = gT + s2 * G;
      const f32 *cp = cell + ((unsigned long)t * B + s2) * H;
      f32 *cn = cell + ((unsigned long)(t + 1) * B + s2) * H;
      f32 *tc = tanhc + ((unsigned long)t * B + s2) * H;
      f32 *hn = hid + ((unsigned long)t * B + s2) * H;
      for (int u = 0; u < H; u += 4) {
        v128_t i = vsigmoid(LD(g0 + u));
        v128_t f = vsigmoid(LD(g0 + H + u));
        v128_t g = vtanh(LD(g0 + 2 * H + u));
        v128_t o = vsigmoid(LD(g0 + 3 * H + u));
        ST(g0 + u, i); ST(g0 + H + u, f); ST(g0 + 2 * H + u, g); ST(g0 + 3 * H + u, o);
        v128_t c = FMA(wasm_f32x4_mul(f, LD(cp + u)), i, g);
        ST(cn + u, c);
        v128_t th = vtanh(c);
        ST(tc + u, th);
        ST(hn + u, wasm_f32x4_mul(o, th));
      }
    }
  }
  /* Head: y[s, t, :] = h_t · Wd + bd (scalar: 2 outputs, 2·64 multiply-adds per tick). */
  for (int t = 0; t < T; t++)
    for (int s = 0; s < B; s++) {
      const f32 *h = hid + ((unsigned long)t * B + s) * H;
      f32 q = params[OFF_BD], l = params[OFF_BD + 1];
      for (int u = 0; u < H; u++) {
        q += h[u] * params[OFF_WD + 2 * u];
        l += h[u] * params[OFF_WD + 2 * u + 1];
      }
      y[((unsigned long)s * T + t) * 2] = q;
      y[((unsigned long)s * T + t) * 2 + 1] = l;
    }
  for (int i = 0; i < B * H; i++) {
    hT[i] = hid[(unsigned long)(T - 1) * B * H + i];
    cT[i] = cell[(unsigned long)T * B * H + i];
  }
}

/*
 * BPTT after lstm_forward(), with dL/dy [B,T,2] written over y. Overwrites grads. No gradient flows into
 * h0/c0 (the carried state is detached). dz of step t is written over gate[t] (no longer needed), and
 * the W/U gradient is one GEMM over all T·B rows after the time loop.
 */
void lstm_backward(void) {
  const int B = cB, T = cT_;
  for (int i = 0; i < PARAM_COUNT; i++) grads[i] = 0;
  for (int i = 0; i < B * H; i++) dh[i] = dc[i] = 0;
  /* Uᵀ [256, 64] so dh = dz · Uᵀ has contiguous 64-wide rows. */
  for (int k = 0; k < H; k++)
    for (int j = 0; j < G; j++) ut[j * H + k] = params[(F + k) * G + j];
  double hacc[H * OUTS + OUTS];
  for (int i = 0; i < H * OUTS + OUTS; i++) hacc[i] = 0;
  for (int t = T - 1; t >= 0; t--) {
    f32 *gT = gate + (unsigned long)t * B * G;
    double hg[H * OUTS + OUTS]; /* this step's head gradient, in double: cheap here, and sums 8k terms */
    for (int i = 0; i < H * OUTS + OUTS; i++) hg[i] = 0;
    for (int s = 0; s < B; s++) {
      const f32 dq = y[((unsigned long)s * T + t) * 2], dl = y[((unsigned long)s * T + t) * 2 + 1];
      const f32 *h = hid + ((unsigned long)t * B + s) * H;
      hg[H * OUTS] += dq;
      hg[H * OUTS + 1] += dl;
      for (int u = 0; u < H; u++) {
        hg[2 * u] += (double)h[u] * dq;
        hg[2 * u + 1] += (double)h[u] * dl;
        dh[s * H + u] += dq * params[OFF_WD + 2 * u] + dl * params[OFF_WD + 2 * u + 1];
      }
      f32 *g0 = gT + s * G;
      const f32 *cp = cell + ((unsigned long)t * B + s) * H;
      const f32 *tc = tanhc + ((unsigned long)t * B + s) * H;
      const v128_t one = wasm_f32x4_splat(1.0f);
      for (int u = 0; u < H; u += 4) {
        v128_t i = LD(g0 + u), f = LD(g0 + H + u), g = LD(g0 + 2 * H + u), o = LD(g0 + 3 * H + u);
        v128_t th = LD(tc + u), dhu = LD(dh + s * H + u);
        v128_t dcu = FMA(LD(dc + s * H + u), wasm_f32x4_mul(dhu, o), wasm_f32x4_sub(one, wasm_f32x4_mul(th, th)));
        ST(g0 + u, wasm_f32x4_mul(wasm_f32x4_mul(dcu, g), wasm_f32x4_mul(i, wasm_f32x4_sub(one, i))));
        ST(g0 + H + u, wasm_f32x4_mul(wasm_f32x4_mul(dcu, LD(cp + u)), wasm_f32x4_mul(f, wasm_f32x4_sub(one, f))));
        ST(g0 + 2 * H + u, wasm_f32x4_mul(wasm_f32x4_mul(dcu, i), wasm_f32x4_sub(one, wasm_f32x4_mul(g, g))));
        ST(g0 + 3 * H + u, wasm_f32x4_mul(wasm_f32x4_mul(dhu, th), wasm_f32x4_mul(o, wasm_f32x4_sub(one, o))));
        ST(dc + s * H + u, wasm_f32x4_mul(dcu, f));
      }
    }
    for (int i = 0; i < H * OUTS + OUTS; i++) hacc[i] += hg[i];
    if (t == 0) break;
    /* dh_{t-1} = dz_t · Uᵀ: blocks of 4 samples × 8 units. */
    int s = 0;
    for (; s + 4 <= B; s += 4) {
      const f32 *z0 = gT + s * G, *z1 = z0 + G, *z2 = z1 + G, *z3 = z2 + G;
      for (int k = 0; k < H; k += 8) {
        v128_t z = wasm_f32x4_splat(0.0f);
        v128_t a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
        const f32 *w = ut + k;
        for (int j = 0; j < G; j++, w += H) {
          v128_t w0 = LD(w), w1 = LD(w + 4);
          v128_t v0 = SPLAT(z0 + j), v1 = SPLAT(z1 + j), v2 = SPLAT(z2 + j), v3 = SPLAT(z3 + j);
          a00 = FMA(a00, v0, w0); a01 = FMA(a01, v0, w1);
          a10 = FMA(a10, v1, w0); a11 = FMA(a11, v1, w1);
          a20 = FMA(a20, v2, w0); a21 = FMA(a21, v2, w1);
          a30 = FMA(a30, v3, w0); a31 = FMA(a31, v3, w1);
        }
        f32 *o = dh + s * H + k;
        ST(o, a00); ST(o + 4, a01); ST(o + H, a10); ST(o + H + 4, a11);
        ST(o + 2 * H, a20); ST(o + 2 * H + 4, a21); ST(o + 3 * H, a30); ST(o + 3 * H + 4, a31);
      }
    }
    for (; s < B; s++) {
      const f32 *z0 = gT + s * G;
      for (int k = 0; k < H; k += 8) {
        v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0;
        const f32 *w = ut + k;
        for (int j = 0; j < G; j++, w += H) {
          v128_t v0 = SPLAT(z0 + j);
          a0 = FMA(a0, v0, LD(w)); a1 = FMA(a1, v0, LD(w + 4));
        }
        ST(dh + s * H + k, a0); ST(dh + s * H + k + 4, a1);
      }
    }
  }
  for (int i = 0; i < H * OUTS + OUTS; i++) grads[OFF_WD + i] = (f32)hacc[i];
  /*
   * dWU = Σ_t Σ_s inp[t,s]ᵀ dz[t,s], blocks of 4 input rows × 8 gate columns; db = Σ_t Σ_s dz[t,s].
   * Two-level sums (over the B samples of a step in registers, then over steps) keep the float32 rounding
   * error near (B + T)·ε instead of B·T·ε, so shards on different threads add up to nearly the same bits.
   * Step-major order keeps one step's dz [B,256] and inputs in cache while every (k, j) block reads them
   * (k/j-major over all T·B rows streamed 4 MB from memory 17 times: 1.6x slower measured).
   */
  for (int t = 0; t < T; t++) {
    const f32 *inT = inp + (unsigned long)t * B * IN;
    const f32 *dT = gate + (unsigned long)t * B * G;
    for (int j = 0; j < G; j += 4) {
      v128_t a = wasm_f32x4_splat(0.0f);
      const f32 *d = dT + j;
      for (int s = 0; s < B; s++, d += G) a = wasm_f32x4_add(a, LD(d));
      ST(grads + OFF_B + j, wasm_f32x4_add(LD(grads + OFF_B + j), a));
    }
    for (int k = 0; k < IN; k += 4) {
      for (int j = 0; j < G; j += 8) {
        f32 *o = grads + k * G + j;
        v128_t z = wasm_f32x4_splat(0.0f);
        v128_t a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z;
        const f32 *r = inT + k;
        const f32 *d = dT + j;
        for (int s = 0; s < B; s++, r += IN, d += G) {
          v128_t d0 = LD(d), d1 = LD(d + 4);
          v128_t v0 = SPLAT(r), v1 = SPLAT(r + 1), v2 = SPLAT(r + 2), v3 = SPLAT(r + 3);
          a00 = FMA(a00, v0, d0); a01 = FMA(a01, v0, d1);
          a10 = FMA(a10, v1, d0); a11 = FMA(a11, v1, d1);
          a20 = FMA(a20, v2, d0); a21 = FMA(a21, v2, d1);
          a30 = FMA(a30, v3, d0); a31 = FMA(a31, v3, d1);
        }
        ST(o, wasm_f32x4_add(LD(o), a00)); ST(o + 4, wasm_f32x4_add(LD(o + 4), a01));
        ST(o + G, wasm_f32x4_add(LD(o + G), a10)); ST(o + G + 4, wasm_f32x4_add(LD(o + G + 4), a11));
        ST(o + 2 * G, wasm_f32x4_add(LD(o + 2 * G), a20)); ST(o + 2 * G + 4, wasm_f32x4_add(LD(o + 2 * G + 4), a21));
        ST(o + 3 * G, wasm_f32x4_add(LD(o + 3 * G), a30)); ST(o + 3 * G + 4, wasm_f32x4_add(LD(o + 3 * G + 4), a31));
      }
    }
  }
}

/*
 * Arithmetic-peak probe for the benchmark: 12 independent f32x4 multiply-add chains (no FMA in wasm
 * SIMD128, so one mul + one add per lane step), 96 flops per iteration, no memory traffic. Returns a sum
 * so the work cannot be optimized away.
 */
float lstm_peak_probe(int iters) {
  v128_t m = wasm_f32x4_splat(0.999999f), c = wasm_f32x4_splat(1e-7f);
  v128_t a0 = wasm_f32x4_splat(0.1f), a1 = wasm_f32x4_splat(0.2f), a2 = wasm_f32x4_splat(0.3f);
  v128_t a3 = wasm_f32x4_splat(0.4f), a4 = wasm_f32x4_splat(0.5f), a5 = wasm_f32x4_splat(0.6f);
  v128_t a6 = wasm_f32x4_splat(0.7f), a7 = wasm_f32x4_splat(0.8f), a8 = wasm_f32x4_splat(0.9f);
  v128_t a9 = wasm_f32x4_splat(1.0f), a10 = wasm_f32x4_splat(1.1f), a11 = wasm_f32x4_splat(1.2f);
  for (int i = 0; i < iters; i++) {
    a0 = FMA(c, a0, m); a1 = FMA(c, a1, m); a2 = FMA(c, a2, m); a3 = FMA(c, a3, m);
    a4 = FMA(c, a4, m); a5 = FMA(c, a5, m); a6 = FMA(c, a6, m); a7 = FMA(c, a7, m);
    a8 = FMA(c, a8, m); a9 = FMA(c, a9, m); a10 = FMA(c, a10, m); a11 = FMA(c, a11, m);
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)),
                            wasm_f32x4_add(wasm_f32x4_add(a4, a5), wasm_f32x4_add(a6, a7)));
  s = wasm_f32x4_add(s, wasm_f32x4_add(wasm_f32x4_add(a8, a9), wasm_f32x4_add(a10, a11)));
  return wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1) + wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3);
}
