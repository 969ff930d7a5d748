// Even thinning of long series (dashboard probes and histograms, result bundles).

/** Indices of about `max` evenly spread entries of n (always the first and last). */
export function spread(n: number, max: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  if (max <= 1) return n ? [n - 1] : [];
  const idx: number[] = [];
  for (let k = 0; k < max; k++) idx.push(Math.round((k * (n - 1)) / (max - 1)));
  return [...new Set(idx)];
}
