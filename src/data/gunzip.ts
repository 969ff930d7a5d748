/**
 * Read a dataset file from disk, gunzipping `.gz` files in memory.
 *
 * zlib errors (truncated stream, bad CRC, not gzip at all) become DataErrors
 * naming the file. Output is capped so a hostile or garbled .gz cannot
 * decompress into gigabytes before the size check gets a chance to run.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from './errors.js';

/** Largest real file is 47,040,016 bytes; anything much bigger is not Fashion-MNIST. */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export function gunzipFile(gz: Uint8Array, file: string, fix: string): Uint8Array {
  try {
    // One output chunk of the size the gzip trailer announces (ISIZE, clamped): zlib then
    // inflates into a single buffer instead of 16 KB chunks concatenated at the end, which
    // briefly held the 47 MB training images twice.
    const isize = gz.length >= 18 ? new DataView(gz.buffer, gz.byteOffset + gz.length - 4, 4).getUint32(0, true) : 0;
    const chunkSize = Math.min(Math.max(isize, 64 << 10), MAX_DECOMPRESSED_BYTES);
    return gunzipSync(gz, { maxOutputLength: MAX_DECOMPRESSED_BYTES, chunkSize });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new DataError(file, 'a complete, valid gzip stream', `corrupt gzip data (${msg})`, fix, err);
  }
}

/** Bytes of the (decompressed) IDX file at `path`. */
export function readIdxBytes(path: string, fix: string): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new DataError(path, 'a readable file', `read error (${msg})`, fix, err);
  }
  const bytes = path.endsWith('.gz') ? gunzipFile(raw, path, fix) : raw;
  // Plain Uint8Array view (not Buffer) so callers see exactly the documented type.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
