// Tensors to bytes and back, in the safetensors layout (8-byte little-endian header length,
// a JSON header of {name: {dtype, shape, data_offsets}}, then the raw little-endian data).
// Chosen because it is trivial to read anywhere (the PyTorch parity tests read it with numpy)
// and holds NaN/Inf bit-exactly, which checkpoints of a diverging run must.
import { native } from './native.js';
import { Tensor, type DType } from './tensor.js';

const CODE: Record<DType, string> = { float32: 'F32', float64: 'F64', int64: 'I64', int32: 'I32', uint8: 'U8', bool: 'BOOL' };
const DTYPE: Record<string, DType> = Object.fromEntries(Object.entries(CODE).map(([k, v]) => [v, k as DType]));
const SIZE: Record<DType, number> = { float32: 4, float64: 8, int64: 8, int32: 4, uint8: 1, bool: 1 };

interface Entry { dtype: string; shape: number[]; data_offsets: [number, number] }

export function encodeTensors(tensors: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, Entry | Record<string, string>> = { __metadata__: metadata };
  const blobs: Uint8Array[] = [];
  let off = 0;
  for (const [name, t] of tensors) {
    const bytes = new Uint8Array(native.toBuffer(t.handle));
    header[name] = { dtype: CODE[t.dtype], shape: t.shape, data_offsets: [off, off + bytes.length] };
    blobs.push(bytes);
    off += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // align the data to 8 bytes
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const b of blobs) { out.set(b, p); p += b.length; }
  return out;
}

export interface Decoded { tensors: Map<string, Tensor>; metadata: Record<string, string> }

/** Parses bytes written by encodeTensors (or any safetensors file); throws on any inconsistency. */
export function decodeTensors(buf: Uint8Array, what = 'tensor file'): Decoded {
  const fail = (m: string): never => { throw new Error(`${what}: ${m}`); };
  if (buf.length < 8) fail('too short to hold a header');
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (n > buf.length - 8) fail(`header length ${n} exceeds file size ${buf.length}`);
  let header: Record<string, unknown>;
  try { header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n))) as Record<string, unknown>; } catch { return fail('header is not valid JSON'); }
  const base = 8 + n;
  const tensors = new Map<string, Tensor>();
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  try {
    for (const [name, v] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const e = v as Entry;
      const dtype = DTYPE[e.dtype] ?? fail(`'${name}': unsupported dtype ${e.dtype}`);
      const [a, b] = e.data_offsets;
      const count = e.shape.reduce((x, y) => x * y, 1);
      if (b - a !== count * SIZE[dtype] || base + b > buf.length) fail(`'${name}': data does not match shape [${e.shape}]`);
      const bytes = buf.slice(base + a, base + b); // copy: aligned, owned
      tensors.set(name, new Tensor(native.fromBuffer(bytes, e.shape, dtype)));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata };
}
