// Probe values are stored as raw Float32 blobs: compact, fast, and unlike JSON
// they keep NaN and ±Infinity bit-exact. Byte order is the platform's (little
// endian on every machine nanscope targets).

import type { ProbeSeries } from './types.js';

/** A view of a typed array's bytes, not a copy; SQLite copies it when binding. */
const bytesOf = (a: Float32Array | Float64Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * A blob back as a typed array. Copied: the driver's Buffer may sit at an offset that is not
 * aligned to the element size.
 */
function decodeAs<T extends Float32Array | Float64Array>(blob: Uint8Array, Ctor: { new (n: number): T; BYTES_PER_ELEMENT: number }, what: string): T {
  const size = Ctor.BYTES_PER_ELEMENT;
  if (blob.byteLength % size !== 0) throw new Error(`${what} of ${blob.byteLength} bytes is not Float${8 * size} data`);
  const out = new Ctor(blob.byteLength / size);
  new Uint8Array(out.buffer).set(blob);
  return out;
}

export function encodeProbe(values: Float32Array): Buffer {
  return bytesOf(values);
}

export function decodeProbe(blob: Uint8Array): Float32Array {
  return decodeAs(blob, Float32Array, 'probe blob');
}

/**
 * Histogram counts as Float64 blobs: every count below 2^53 is exact (a Float32 loses counts
 * above 2^24 = 16.8M, fewer than the 35.8M outputs of AlexNet 224's first conv), and a row of
 * NaN still says "nothing seen for that layer".
 */
export function encodeCounts(values: ArrayLike<number>): Buffer {
  return bytesOf(values instanceof Float64Array ? values : Float64Array.from(values));
}

export function decodeCounts(blob: Uint8Array): Float64Array {
  return decodeAs(blob, Float64Array, 'histogram blob');
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
