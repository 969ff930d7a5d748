// The safetensors layout itself (header, dtype codes, per-tensor CRC-32), with no engine in it:
// serialize.ts writes and reads files from tensors with it, and the checkpoint writer's thread,
// which cannot load the addon, writes the same bytes from a snapshot of them.
import { writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { DType } from './tensor.js';

/** What the header needs of a tensor: its dtype and shape. */
export interface TensorLike { readonly dtype: DType; readonly shape: readonly number[] }

export const CODE: Record<DType, string> = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };
export const DTYPE: Record<string, DType> = Object.fromEntries(Object.entries(CODE).map(([k, v]) => [v, k as DType]));
export const SIZE: Record<DType, number> = { float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1, bool: 1 };

export interface Entry { dtype: string; shape: number[]; data_offsets: [number, number] }

export const CRC = 'crc32:';
/** Hex width of a checksum: fixed, so the header can be written first and filled in after the data. */
export const HEX = 8;
export const hex = (n: number): string => n.toString(16).padStart(HEX, '0');
/** The checksum's seed: the tensor's dtype and shape, so relabelling either is detected. */
export const seed = (dtype: string, shape: readonly number[]): number => crc32(`${dtype}[${shape.join(',')}]`);
/** Largest header accepted (the JSON text); real ones are a few KB. */
export const MAX_HEADER = 16 << 20;
export const CHUNK = 4 << 20;

/** The 8-byte length and the JSON header for these tensors, and where their data goes. */
export function headerFor(tensors: ReadonlyMap<string, TensorLike>, metadata: Record<string, string>, sums: ReadonlyMap<string, number> | null): { head: Uint8Array; dataBytes: number; entries: [string, Entry][] } {
  for (const k of Object.keys(metadata)) if (k.startsWith(CRC)) throw new Error(`metadata key '${k}' is reserved for checksums`);
  const meta: Record<string, string> = { ...metadata };
  const entries: [string, Entry][] = [];
  let off = 0;
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((x, y) => x * y, 1) * SIZE[t.dtype];
    entries.push([name, { dtype: CODE[t.dtype], shape: [...t.shape], data_offsets: [off, off + n] }]);
    meta[CRC + name] = hex(sums?.get(name) ?? 0);
    off += n;
  }
  let json = JSON.stringify({ __metadata__: meta, ...Object.fromEntries(entries) });
  json += ' '.repeat((8 - (json.length % 8)) % 8); // align the data to 8 bytes
  const text = new TextEncoder().encode(json);
  const head = new Uint8Array(8 + text.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(text.length), true);
  head.set(text, 8);
  return { head, dataBytes: off, entries };
}

/** Writes all of bytes at the fd's position (at null) or at offset `at`. */
export function writeAll(fd: number, bytes: Uint8Array, at: number | null): void {
  for (let p = 0; p < bytes.length;) p += writeSync(fd, bytes, p, bytes.length - p, at === null ? null : at + p);
}

/** CRC-32 of bytes [a, b) read in chunks, continuing from `init` (an empty range leaves it as is:
 * zlib's crc32 of a zero-length buffer without memory returns 0, not `init`). */
export function crcOf(read: (a: number, b: number) => Uint8Array, a: number, b: number, init: number): number {
  let c = init;
  for (let p = a; p < b; p += CHUNK) c = crc32(read(p, Math.min(b, p + CHUNK)), c);
  return c;
}

