// Probe values are stored as raw Float32 blobs: compact, fast, and unlike JSON
// they keep NaN and ±Infinity bit-exact. Byte order is the platform's (little
// endian on every machine nanscope targets).

import type { ProbeSeries } from './types.js';

export function encodeProbe(values: Float32Array): Buffer {
  // A view, not a copy; SQLite copies it when binding.
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

export function decodeProbe(blob: Uint8Array): Float32Array {
  if (blob.byteLength % 4 !== 0) throw new Error(`probe blob of ${blob.byteLength} bytes is not Float32 data`);
  // Copy: the driver's Buffer may sit at an offset that is not 4-byte aligned.
  const out = new Float32Array(blob.byteLength / 4);
  new Uint8Array(out.buffer).set(blob);
  return out;
}

/**
 * Histogram counts as Float64 blobs: every count below 2^53 is exact (a Float32 loses counts
 * above 2^24 = 16.8M, fewer than the 35.8M outputs of AlexNet 224's first conv), and a row of
 * NaN still says "nothing seen for that layer".
 */
export function encodeCounts(values: ArrayLike<number>): Buffer {
  const f = values instanceof Float64Array ? values : Float64Array.from(values);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
}

export function decodeCounts(blob: Uint8Array): Float64Array {
  if (blob.byteLength % 8 !== 0) throw new Error(`histogram blob of ${blob.byteLength} bytes is not Float64 data`);
  const out = new Float64Array(blob.byteLength / 8);
  new Uint8Array(out.buffer).set(blob);
  return out;
}

/** Pick one field out of per-step layers×fields blobs into a steps×layers matrix. */
export function extractSeries(
  field: string,
  fields: readonly string[],
  layers: readonly string[],
  steps: number[],
  values: readonly Float32Array[],
): ProbeSeries {
  const f = fields.indexOf(field);
  if (f < 0) throw new Error(`unknown probe field ${JSON.stringify(field)}; known: ${fields.join(', ')}`);
  const nl = layers.length;
  const nf = fields.length;
  const data = new Float32Array(steps.length * nl);
  values.forEach((v, i) => {
    for (let l = 0; l < nl; l++) data[i * nl + l] = v[l * nf + f];
  });
  return { field, steps, layers: [...layers], data };
}
