/**
 * Seeded shuffling. The permutation for epoch e is a pure function of
 * (seed, e): we hash (seed, e) into a 32-bit state with murmur3's fmix32
 * finalizer, then drive a Fisher-Yates shuffle with mulberry32
 * (Tommy Ettinger's 32-bit generator: tiny, fast, passes gjrand/PractRand to
 * a few GB -- ample for permuting 60000 items). No state carries across
 * epochs, so resuming at (epoch, batch) needs nothing but the seed.
 */

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Split a safe integer into two uint32 words (two's complement for negatives). */
function words(x: number): [number, number] {
  return [x >>> 0, Math.floor(x / 0x1_0000_0000) >>> 0];
}

/** 32-bit state for (seed, epoch); distinct inputs give well-mixed, independent states. */
export function epochState(seed: number, epoch: number): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`epoch must be a non-negative integer, got ${epoch}`);
  const [slo, shi] = words(seed);
  const [elo, ehi] = words(epoch);
  let h = fmix32(slo ^ 0x9e3779b9);
  h = fmix32((h ^ shi) + 0x7f4a7c15);
  h = fmix32((h ^ elo) + 0x94d049bb);
  return fmix32((h ^ ehi) + 0x2545f491);
}

/** mulberry32: returns a function yielding uint32 values. */
export function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Permutation of 0..n-1 for (seed, epoch). j = floor(u32 * (i+1) / 2^32): bias < (i+1)/2^32, negligible. */
export function permutation(n: number, seed: number, epoch: number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const next = mulberry32(epochState(seed, epoch));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor((next() * (i + 1)) / 0x1_0000_0000);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
