import { describe, expect, it } from 'vitest';
import { derivativeBounds, invariantBox, makeBox, stepBounds, type Box } from '../pipeline/verify/ibp.js';
import { makeRng, netDequantized, randomNet, referenceStep, zeroState, type VerifyNet } from '../pipeline/verify/net.js';

const clipBox = (f = 4, clip = 5): Box => makeBox(new Array(f).fill(-clip), new Array(f).fill(clip));

function sampleIn(box: Box, rng: () => number): number[] {
  return Array.from(box.lo, (lo, i) => lo + (box.hi[i]! - lo) * rng());
}

/**
 * Runs `streams` random input sequences of `ticks` ticks from h = c = 0 (inputs uniform in the box, with
 * runs of corner inputs so the state is pushed to its extremes) and checks every reachable state against the
 * invariant box and every output against the IBP bound.
 */
function checkSoundness(net: VerifyNet, domain: Box, seed: number, streams: number, ticks: number): { outside: number; checked: number } {
  const inv = invariantBox(net, domain);
  const y = stepBounds(net, inv.box, domain).y;
  const rng = makeRng(seed);
  let outside = 0;
  let checked = 0;
  for (let s = 0; s < streams; s++) {
    const st = zeroState(net);
    let corner: number[] | null = null;
    for (let t = 0; t < ticks; t++) {
      if (t % 25 === 0) corner = rng() < 0.5 ? Array.from(domain.lo, (lo, i) => (rng() < 0.5 ? lo : domain.hi[i]!)) : null;
      const x = corner ?? sampleIn(domain, rng);
      const [q, l] = referenceStep(net, st, x);
      checked++;
      if (q < y[0].lo || q > y[0].hi || l < y[1].lo || l > y[1].hi) outside++;
      for (let u = 0; u < net.units; u++) {
        if (st.h[u]! < inv.box.h.lo[u]! || st.h[u]! > inv.box.h.hi[u]!) outside++;
        if (st.c[u]! < inv.box.c.lo[u]! || st.c[u]! > inv.box.c.hi[u]!) outside++;
      }
    }
  }
  return { outside, checked };
}

describe('invariant box for the carried state (h, c)', () => {
  it('contains every state and output reached from h = c = 0 on a full-size int8 network', () => {
    const net = netDequantized(randomNet(11));
    const r = checkSoundness(net, clipBox(), 5, 40, 300);
    expect(r.checked).toBe(12_000);
    expect(r.outside).toBe(0);
  });

  it('contains every state and output on random small networks with large weights (saturating gates)', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const net = randomNet(100 + seed, 3, 4, 4);
      const r = checkSoundness(net, clipBox(), seed, 20, 200);
      expect(r.outside, `seed ${seed}`).toBe(0);
    }
  });

  it('is tighter than the trivial box: the fixpoint shrinks c to a finite interval', () => {
    const net = netDequantized(randomNet(12));
    const inv = invariantBox(net, clipBox());
    expect(inv.converged).toBe(true);
    expect(inv.unboundedC).toBe(0);
    for (let u = 0; u < net.units; u++) {
      expect(inv.box.h.lo[u]!).toBeGreaterThan(-1);
      expect(inv.box.h.hi[u]!).toBeLessThan(1);
      expect(Number.isFinite(inv.box.c.hi[u]!)).toBe(true);
    }
  });
});

describe('one-step IBP over a sub-box of inputs and random states inside the invariant box', () => {
  it('bounds every sampled output, including from unreachable-but-in-box states', () => {
    const net = netDequantized(randomNet(21));
    const inv = invariantBox(net, clipBox());
    const rng = makeRng(9);
    let bad = 0;
    for (let k = 0; k < 30; k++) {
      const a = sampleIn(clipBox(), rng);
      const b = sampleIn(clipBox(), rng);
      const sub = makeBox(a.map((v, i) => Math.min(v, b[i]!)), a.map((v, i) => Math.max(v, b[i]!)));
      const y = stepBounds(net, inv.box, sub).y;
      for (let s = 0; s < 50; s++) {
        const st = { h: Float64Array.from(sampleIn(inv.box.h, rng)), c: Float64Array.from(sampleIn(inv.box.c, rng)) };
        const [q, l] = referenceStep(net, st, sampleIn(sub, rng));
        if (q < y[0].lo || q > y[0].hi || l < y[1].lo || l > y[1].hi) bad++;
      }
    }
    expect(bad).toBe(0);
  });

  it('encloses the finite-difference derivative of q', () => {
    const net = randomNet(31, 8, 4, 2);
    const inv = invariantBox(net, clipBox());
    const rng = makeRng(4);
    let bad = 0;
    for (let k = 0; k < 200; k++) {
      const x = sampleIn(clipBox(), rng);
      const sub = makeBox(x.map((v) => v - 0.05), x.map((v) => v + 0.05));
      const h = Float64Array.from(sampleIn(inv.box.h, rng));
      const c = Float64Array.from(sampleIn(inv.box.c, rng));
      const j = k % 4;
      const d = derivativeBounds(net, inv.box, sub, j, 'q');
      const e = 1e-6;
      const xp = [...x];
      const xm = [...x];
      xp[j] = x[j]! + e;
      xm[j] = x[j]! - e;
      const qp = referenceStep(net, { h: h.slice(), c: c.slice() }, xp)[0];
      const qm = referenceStep(net, { h: h.slice(), c: c.slice() }, xm)[0];
      const fd = (qp - qm) / (2 * e);
      if (fd < d.lo - 1e-6 || fd > d.hi + 1e-6) bad++;
    }
    expect(bad).toBe(0);
  });
});

describe('soundness against the runtime engine itself (float32 state, packed kernel)', () => {
  it('every output of runtime LstmModel on random in-box sequences lies inside the IBP bounds of the same int8 weights', async () => {
    const { LstmModel } = await import('../runtime/engine.js');
    const { netOf } = await import('../pipeline/verify/verify.js');
    const src = netDequantized(randomNet(77, 64, 4, 1.5));
    const f32 = (a: Float64Array): Float32Array => Float32Array.from(a);
    const params = { kernel: f32(src.W), recurrentKernel: f32(src.U), bias: f32(src.b), headKernel: f32(src.Wd), headBias: f32(src.bd) };
    const { net } = netOf(params);
    const inv = invariantBox(net, clipBox());
    const y = stepBounds(net, inv.box, clipBox()).y;
    const model = LstmModel.fromDense(params);
    const rng = makeRng(13);
    let outside = 0;
    let n = 0;
    for (let s = 0; s < 30; s++) {
      const xs = new Float64Array(200 * 4);
      let x = [0, 0, 0, 0];
      for (let t = 0; t < 200; t++) {
        if (t % 20 === 0) x = x.map(() => (rng() < 0.4 ? (rng() < 0.5 ? -5 : 5) : rng() * 10 - 5));
        xs.set(x, t * 4);
      }
      const out = model.forward(xs);
      for (let t = 0; t < 200; t++) {
        n++;
        if (out[2 * t]! < y[0].lo || out[2 * t]! > y[0].hi || out[2 * t + 1]! < y[1].lo || out[2 * t + 1]! > y[1].hi) outside++;
      }
    }
    expect(n).toBe(6000);
    expect(outside).toBe(0);
  });
});

describe('outward rounding is enough at point boxes (where rounding is all there is)', () => {
  it('a point-box step from the runtime state contains the runtime engine next state and outputs, tick after tick', async () => {
    const { LstmModel, LstmState } = await import('../runtime/engine.js');
    const { netOf } = await import('../pipeline/verify/verify.js');
    const src = netDequantized(randomNet(78, 64, 4, 2));
    const f32 = (a: Float64Array): Float32Array => Float32Array.from(a);
    const params = { kernel: f32(src.W), recurrentKernel: f32(src.U), bias: f32(src.b), headKernel: f32(src.Wd), headBias: f32(src.bd) };
    const { net } = netOf(params);
    const model = LstmModel.fromDense(params);
    const st = new LstmState();
    const rng = makeRng(14);
    const y = new Float64Array(2);
    let bad = 0;
    let maxWidth = 0;
    for (let t = 0; t < 600; t++) {
      const x = [0, 1, 2, 3].map(() => rng() * 10 - 5);
      const box = { h: makeBox(st.h, st.h), c: makeBox(st.c, st.c) };
      const b = stepBounds(net, box, makeBox(x, x));
      model.step(st, x, y);
      if (y[0]! < b.y[0].lo || y[0]! > b.y[0].hi || y[1]! < b.y[1].lo || y[1]! > b.y[1].hi) bad++;
      for (let u = 0; u < 64; u++) {
        if (st.h[u]! < b.h[u]!.lo || st.h[u]! > b.h[u]!.hi || st.c[u]! < b.c[u]!.lo || st.c[u]! > b.c[u]!.hi) bad++;
      }
      maxWidth = Math.max(maxWidth, b.y[0].hi - b.y[0].lo);
    }
    expect(bad).toBe(0);
    // ...and the slack is rounding-sized, not a blanket widening.
    expect(maxWidth).toBeLessThan(1e-3);
  });
});
