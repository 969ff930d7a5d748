// Tensors to bytes and back, in the safetensors layout (8-byte little-endian header length,
// a JSON header of {name: {dtype, shape, data_offsets}}, then the raw little-endian data).
// Chosen because it is trivial to read anywhere (the PyTorch parity tests read it with numpy)
// and holds NaN/Inf bit-exactly, which checkpoints of a diverging run must.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { native } from './native.js';
import { Tensor, type DType } from './tensor.js';

const CODE: Record<DType, string> = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };
const DTYPE: Record<string, DType> = Object.fromEntries(Object.entries(CODE).map(([k, v]) => [v, k as DType]));
const SIZE: Record<DType, number> = { float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1, bool: 1 };

interface Entry { dtype: string; shape: number[]; data_offsets: [number, number] }

/** The 8-byte length and the JSON header for these tensors, and where their data goes. */
function headerFor(tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string>): { head: Uint8Array; dataBytes: number } {
  const header: Record<string, Entry | Record<string, string>> = { __metadata__: metadata };
  let off = 0;
  for (const [name, t] of tensors) {
    const n = t.numel() * SIZE[t.dtype];
    header[name] = { dtype: CODE[t.dtype], shape: t.shape, data_offsets: [off, off + n] };
    off += n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // align the data to 8 bytes
  const text = new TextEncoder().encode(json);
  const head = new Uint8Array(8 + text.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(text.length), true);
  head.set(text, 8);
  return { head, dataBytes: off };
}

/** The whole file in memory; for small tensors (a bad batch, tests). Big ones: writeTensors. */
export function encodeTensors(tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const { head, dataBytes } = headerFor(tensors, metadata);
  const out = new Uint8Array(head.length + dataBytes);
  out.set(head, 0);
  let p = head.length;
  for (const t of tensors.values()) {
    const b = new Uint8Array(native.toBuffer(t.handle));
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/** Streams the same layout to an open file: each tensor goes from its own memory to the fd. */
export function writeTensors(fd: number, tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): void {
  const { head } = headerFor(tensors, metadata);
  for (let p = 0; p < head.length;) p += writeSync(fd, head, p);
  for (const t of tensors.values()) native.writeFd(t.handle, fd);
}

export interface Decoded { tensors: Map<string, Tensor>; metadata: Record<string, string> }

/** Checks the header against the file size; calls load(shape, dtype, absolute offset, bytes) per tensor (null: header only). */
function parse(headBytes: (from: number, to: number) => Uint8Array, size: number, what: string,
  load: ((shape: number[], dtype: DType, at: number, bytes: number) => Tensor) | null): Decoded {
  const fail = (m: string): never => { throw new Error(`${what}: ${m}`); };
  if (size < 8) fail('too short to hold a header');
  const lenBytes = headBytes(0, 8);
  const n = Number(new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true));
  if (n > size - 8) fail(`header length ${n} exceeds file size ${size}`);
  let header: Record<string, unknown>;
  try { header = JSON.parse(new TextDecoder().decode(headBytes(8, 8 + n))) as Record<string, unknown>; } catch { return fail('header is not valid JSON'); }
  const base = 8 + n;
  const tensors = new Map<string, Tensor>();
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  try {
    for (const [name, v] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const e = v as Entry;
      const dtype = DTYPE[e.dtype] ?? fail(`'${name}': unsupported dtype ${e.dtype}`);
      if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`'${name}': bad shape ${JSON.stringify(e.shape)}`);
      const [a, b] = e.data_offsets;
      const count = e.shape.reduce((x, y) => x * y, 1);
      if (!(Number.isInteger(a) && a >= 0) || b - a !== count * SIZE[dtype] || base + b > size) fail(`'${name}': data does not match shape [${e.shape}]`);
      if (load) tensors.set(name, load(e.shape, dtype, base + a, b - a));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata };
}

/** Parses bytes written by encodeTensors (or any safetensors file); throws on any inconsistency. */
export function decodeTensors(buf: Uint8Array, what = 'tensor file'): Decoded {
  // fromBuffer copies the bytes into the new tensor (any alignment), so a view is enough.
  return parse((a, b) => buf.subarray(a, b), buf.length, what,
    (shape, dtype, at, n) => new Tensor(native.fromBuffer(buf.subarray(at, at + n), shape, dtype)));
}

/** Reads a safetensors file with each tensor read from disk straight into its own memory. */
export function readTensors(path: string): Decoded {
  return withFile(path, (fd, headBytes, size) =>
    parse(headBytes, size, path, (shape, dtype, at) => new Tensor(native.readFd(fd, at, shape, dtype))));
}

/** The metadata of a safetensors file, checked against its size, without reading any tensor. */
export function readTensorsMetadata(path: string): Record<string, string> {
  return withFile(path, (_fd, headBytes, size) => parse(headBytes, size, path, null).metadata);
}

/** Opens path for fn with a reader of byte ranges and the file's size; always closes it. */
function withFile<T>(path: string, fn: (fd: number, headBytes: (a: number, b: number) => Uint8Array, size: number) => T): T {
  const fd = openSync(path, 'r');
  try {
    return fn(fd, (a, b) => {
      const out = new Uint8Array(b - a);
      for (let p = 0; p < out.length;) {
        const k = readSync(fd, out, p, out.length - p, a + p);
        if (k === 0) throw new Error(`${path}: unexpected end of file`);
        p += k;
      }
      return out;
    }, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}
