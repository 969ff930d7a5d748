// Tensors to bytes and back, in the safetensors layout (8-byte little-endian header length,
// a JSON header of {name: {dtype, shape, data_offsets}}, then the raw little-endian data).
// Chosen because it is trivial to read anywhere (the PyTorch parity tests read it with numpy)
// and holds NaN/Inf bit-exactly, which checkpoints of a diverging run must.
//
// Integrity: every tensor's CRC-32 (over its dtype, shape and bytes, so a relabelled dtype is
// caught as well as a flipped bit) is kept in the header's __metadata__ as "crc32:NAME", and
// checked on every read. Files written before checksums existed still load. The header itself
// is checked field by field (an object, known dtypes, integer shapes, offsets that match the
// shapes, do not overlap and stay inside the file) so a damaged file fails with its path and
// what is wrong, never with a TypeError.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { native } from './native.js';
import { Tensor, type DType } from './tensor.js';
import { CODE, DTYPE, SIZE, CRC, HEX, MAX_HEADER, seed, crcOf, writeAll, headerFor, type Entry } from './layout.js';

/** The whole file in memory; for small tensors (a bad batch, tests). Big ones: writeTensors. */
export function encodeTensors(tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const data = new Map([...tensors].map(([k, t]) => [k, new Uint8Array(native.toBuffer(t.handle))]));
  const sums = new Map([...tensors].map(([k, t]) => [k, crcOf((a, b) => data.get(k)!.subarray(a, b), 0, data.get(k)!.length, seed(CODE[t.dtype], t.shape))]));
  const { head, dataBytes } = headerFor(tensors, metadata, sums);
  const out = new Uint8Array(head.length + dataBytes);
  out.set(head, 0);
  let p = head.length;
  for (const b of data.values()) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/**
 * Streams the same layout to an open file: each tensor goes from its own memory to the fd.
 * The checksums are computed by reading the data back (in chunks: no tensor is copied whole),
 * then the header is rewritten in place with them (same length). The fd must be readable and
 * positioned at 0, as writeFileAtomicSync hands it over.
 */
export function writeTensors(fd: number, tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): void {
  const first = headerFor(tensors, metadata, null);
  writeAll(fd, first.head, null); // at the fd's position, where writeFd continues
  for (const t of tensors.values()) native.writeFd(t.handle, fd);
  const base = first.head.length;
  const read = (a: number, b: number): Uint8Array => readRange(fd, a, b, 'the file being written');
  const sums = new Map(first.entries.map(([name, e]) => [name, crcOf(read, base + e.data_offsets[0], base + e.data_offsets[1], seed(e.dtype, e.shape))]));
  const { head } = headerFor(tensors, metadata, sums);
  if (head.length !== first.head.length) throw new Error('internal: checksummed header changed length');
  writeAll(fd, head, 0); // in place (pwrite): the fd's position stays at the end
}

export interface Decoded { tensors: Map<string, Tensor>; metadata: Record<string, string> }

interface Header { base: number; entries: [string, Entry, DType][]; metadata: Record<string, string>; sums: Map<string, number> | null }

/** Reads and checks the header against the file size; throws `${what}: reason` on anything wrong. */
function parseHeader(headBytes: (from: number, to: number) => Uint8Array, size: number, what: string): Header {
  const fail = (m: string): never => { throw new Error(`${what}: ${m}`); };
  if (size < 8) fail('too short to hold a header');
  const lenBytes = headBytes(0, 8);
  const n = Number(new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true));
  if (n > size - 8) fail(`header length ${n} exceeds file size ${size}`);
  if (n > MAX_HEADER) fail(`header length ${n} is implausibly large (damaged file?)`);
  let header: unknown;
  try { header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headBytes(8, 8 + n))); } catch { return fail('header is not valid JSON'); }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(header)) return fail(`header is ${header === null ? 'null' : Array.isArray(header) ? 'an array' : typeof header}, not an object of tensors`);
  const rawMeta = header.__metadata__ ?? {};
  if (!isObject(rawMeta) || !Object.values(rawMeta).every((v) => typeof v === 'string')) fail('__metadata__ must be an object of strings');
  const metadata: Record<string, string> = {};
  const sums = new Map<string, number>();
  for (const [k, v] of Object.entries(rawMeta as Record<string, string>)) {
    if (!k.startsWith(CRC)) { metadata[k] = v; continue; }
    if (!new RegExp(`^[0-9a-f]{${HEX}}$`).test(v)) fail(`checksum of '${k.slice(CRC.length)}' is not ${HEX} hex digits`);
    sums.set(k.slice(CRC.length), parseInt(v, 16));
  }
  const base = 8 + n;
  const entries: [string, Entry, DType][] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!isObject(v)) return fail(`'${name}': entry is not an object`);
    const e = v as unknown as Entry;
    const dtype = (typeof e.dtype === 'string' && Object.hasOwn(DTYPE, e.dtype) ? DTYPE[e.dtype] : undefined) ?? fail(`'${name}': unsupported dtype ${JSON.stringify(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`'${name}': bad shape ${JSON.stringify(e.shape)}`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((x) => Number.isSafeInteger(x) && x >= 0) || offs[0] > offs[1]) fail(`'${name}': bad data_offsets ${JSON.stringify(offs)}`);
    const count = e.shape.reduce((x, y) => x * y, 1);
    if (offs[1] - offs[0] !== count * SIZE[dtype] || base + offs[1] > size) fail(`'${name}': data does not match shape [${e.shape}]`);
    entries.push([name, e, dtype]);
  }
  // Each tensor owns its bytes: two entries pointing into the same data is damage, not sharing.
  const byStart = [...entries].sort((x, y) => x[1].data_offsets[0] - y[1].data_offsets[0]);
  for (let i = 1; i < byStart.length; i++) {
    const [prev, p] = byStart[i - 1], [name, e] = byStart[i];
    if (e.data_offsets[0] < p.data_offsets[1]) fail(`'${name}': data overlaps '${prev}'`);
  }
  if (sums.size) {
    for (const [name] of entries) if (!sums.has(name)) fail(`'${name}': no checksum (the header has them for other tensors)`);
    for (const name of sums.keys()) if (!entries.some(([x]) => x === name)) fail(`checksum for '${name}', which is not in the file`);
  }
  return { base, entries, metadata, sums: sums.size ? sums : null };
}

/** Checks every checksum of a parsed header against the data; throws naming the first bad tensor. */
function verify(h: Header, read: (a: number, b: number) => Uint8Array, what: string): void {
  if (!h.sums) return; // written before checksums existed
  for (const [name, e] of h.entries) {
    const [a, b] = e.data_offsets;
    if (crcOf(read, h.base + a, h.base + b, seed(e.dtype, e.shape)) !== h.sums.get(name)) {
      throw new Error(`${what}: '${name}' fails its checksum: the file is damaged (bytes, dtype or shape changed since it was written)`);
    }
  }
}

/** Creates each tensor with load(), disposing all of them if any fails. */
function loadAll(h: Header, load: (shape: number[], dtype: DType, at: number, bytes: number) => Tensor): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, e, dtype] of h.entries) tensors.set(name, load(e.shape, dtype, h.base + e.data_offsets[0], e.data_offsets[1] - e.data_offsets[0]));
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return tensors;
}

/** Parses bytes written by encodeTensors (or any safetensors file); throws on any inconsistency or bad checksum. */
export function decodeTensors(buf: Uint8Array, what = 'tensor file'): Decoded {
  const read = (a: number, b: number): Uint8Array => buf.subarray(a, b);
  const h = parseHeader(read, buf.length, what);
  verify(h, read, what);
  // fromBuffer copies the bytes into the new tensor (any alignment), so a view is enough.
  return { tensors: loadAll(h, (shape, dtype, at, n) => new Tensor(native.fromBuffer(buf.subarray(at, at + n), shape, dtype))), metadata: h.metadata };
}

/** Reads a safetensors file with each tensor read from disk straight into its own memory, after checking its checksums. */
export function readTensors(path: string): Decoded {
  return withFile(path, (fd, read, size) => {
    const h = parseHeader(read, size, path);
    verify(h, read, path);
    return { tensors: loadAll(h, (shape, dtype, at) => new Tensor(native.readFd(fd, at, shape, dtype))), metadata: h.metadata };
  });
}

/** The metadata of a safetensors file, checked against its size, without reading any tensor. */
export function readTensorsMetadata(path: string): Record<string, string> {
  return withFile(path, (_fd, read, size) => parseHeader(read, size, path).metadata);
}

/** Checks a file's header and every checksum without creating a tensor; throws naming the file and the damage. */
export function verifyTensorFile(path: string): { checksummed: boolean } {
  return withFile(path, (_fd, read, size) => {
    const h = parseHeader(read, size, path);
    verify(h, read, path);
    return { checksummed: h.sums !== null };
  });
}

function readRange(fd: number, a: number, b: number, what: string): Uint8Array {
  const out = new Uint8Array(b - a);
  for (let p = 0; p < out.length;) {
    const k = readSync(fd, out, p, out.length - p, a + p);
    if (k === 0) throw new Error(`${what}: unexpected end of file`);
    p += k;
  }
  return out;
}

/** Opens path for fn with a reader of byte ranges and the file's size; always closes it. */
function withFile<T>(path: string, fn: (fd: number, read: (a: number, b: number) => Uint8Array, size: number) => T): T {
  const fd = openSync(path, 'r');
  try {
    return fn(fd, (a, b) => readRange(fd, a, b, path), fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}
