/**
 * mulberry32: a tiny seeded PRNG (uniform in [0, 1), no global state) for the pipeline's sampling — verify's
 * counterexample search, fixtures and generators — so every draw is reproducible from a recorded seed.
 * (The simulator has its own forkable generator, sim/prng.ts.)
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
