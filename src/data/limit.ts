/**
 * Stratified subset for quick runs (`--limit-train 1000` etc.).
 *
 * Rule: take the first floor(N/10) images of each class, in file order; when
 * N is not a multiple of 10, classes 0 .. (N mod 10)-1 each take one more.
 * The chosen images keep their original relative file order, so a subset is a
 * deterministic function of N alone (no RNG), every class is represented, and
 * a larger N is a superset of a smaller one per class.
 */
import { DataError } from './errors.js';
import { NUM_CLASSES, PIXELS, type Split } from './split.js';

export function stratifiedLimit(split: Split, limit: number, what: string): Split {
  if (!Number.isInteger(limit) || limit <= 0 || limit > split.n) {
    throw new DataError(
      what,
      `a limit that is an integer in 1..${split.n}`,
      String(limit),
      `pass a limit between 1 and ${split.n}, or omit it to use the whole split`,
    );
  }
  const quota = new Int32Array(NUM_CLASSES);
  for (let c = 0; c < NUM_CLASSES; c++) quota[c] = Math.floor(limit / NUM_CLASSES) + (c < limit % NUM_CLASSES ? 1 : 0);
  const available = new Int32Array(NUM_CLASSES);
  for (let i = 0; i < split.n; i++) available[split.labels[i]]++;
  for (let c = 0; c < NUM_CLASSES; c++) {
    if (quota[c] > available[c]) {
      throw new DataError(
        what,
        `${quota[c]} images of class ${c} for a stratified limit of ${limit}`,
        `only ${available[c]}`,
        'use a smaller limit',
      );
    }
  }
  const images = new Uint8Array(limit * PIXELS);
  const labels = new Uint8Array(limit);
  let k = 0;
  for (let i = 0; i < split.n && k < limit; i++) {
    const c = split.labels[i];
    if (quota[c] === 0) continue;
    quota[c]--;
    images.set(split.images.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
    labels[k++] = c;
  }
  return { images, labels, n: limit };
}
