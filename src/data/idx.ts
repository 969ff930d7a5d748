/**
 * IDX parser (the MNIST container format): a big-endian header
 *   magic = 0x00 0x00 <dtype> <ndims>, then ndims uint32 dimensions,
 * followed by the raw data. Fashion-MNIST only uses dtype 0x08 (uint8) with
 * 1 dim (labels, magic 0x00000801) or 3 dims (images, magic 0x00000803).
 *
 * The parser reads only what the header promises and checks that promise
 * against the actual byte length before touching data, so arbitrary input can
 * only ever produce a DataError: no huge allocation, no out-of-range read, no
 * loop whose bound comes from the file.
 */
import { DataError, DEFAULT_FIX } from './errors.js';

export const LABELS_MAGIC = 0x00000801;
export const IMAGES_MAGIC = 0x00000803;

export interface IdxLabels {
  count: number;
  /** View into the input buffer (no copy), length `count`. */
  labels: Uint8Array;
}

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** View into the input buffer (no copy), length `count*rows*cols`, row-major. */
  pixels: Uint8Array;
}

const hex = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

function readU32(bytes: Uint8Array, at: number): number {
  // Manual big-endian read: avoids DataView alignment/offset pitfalls on subarrays.
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/** Validate magic + header length + exact data length; return dims and data offset. */
function parseHeader(bytes: Uint8Array, file: string, magic: number, fix: string): { dims: number[]; offset: number } {
  const ndims = magic & 0xff;
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < 4) {
    throw new DataError(file, `IDX magic ${hex(magic)}`, `only ${bytes.length} bytes (file truncated)`, fix);
  }
  const got = readU32(bytes, 0);
  if (got !== magic) {
    throw new DataError(file, `IDX magic ${hex(magic)}`, `magic ${hex(got)}`, fix);
  }
  if (bytes.length < headerLen) {
    throw new DataError(file, `${headerLen}-byte IDX header`, `only ${bytes.length} bytes (file truncated)`, fix);
  }
  const dims: number[] = [];
  let expectedLen = headerLen;
  for (let i = 0; i < ndims; i++) {
    const d = readU32(bytes, 4 + 4 * i);
    dims.push(d);
    // Doubles stay exact up to 2^53; beyond that the value is only used to say "too big".
    expectedLen = i === 0 ? headerLen + d : headerLen + (expectedLen - headerLen) * d;
  }
  if (expectedLen !== bytes.length) {
    const what = expectedLen > bytes.length ? 'file truncated' : 'trailing bytes';
    throw new DataError(
      file,
      `size ${expectedLen} bytes for dims [${dims.join('x')}]`,
      `${bytes.length} bytes (${what})`,
      fix,
    );
  }
  return { dims, offset: headerLen };
}

export function parseIdxLabels(bytes: Uint8Array, file: string, fix: string = DEFAULT_FIX): IdxLabels {
  const { dims, offset } = parseHeader(bytes, file, LABELS_MAGIC, fix);
  const count = dims[0]!;
  return { count, labels: bytes.subarray(offset, offset + count) };
}

export function parseIdxImages(bytes: Uint8Array, file: string, fix: string = DEFAULT_FIX): IdxImages {
  const { dims, offset } = parseHeader(bytes, file, IMAGES_MAGIC, fix);
  const [count, rows, cols] = dims as [number, number, number];
  return { count, rows, cols, pixels: bytes.subarray(offset, offset + count * rows * cols) };
}
