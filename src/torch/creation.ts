// Tensor factories, named as torch.zeros / torch.ones / torch.tensor / torch.arange.
import { native } from './native.js';
import { Tensor, type DType, type Device, type TypedArray } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

function make(h: ReturnType<typeof native.zeros>, o: TensorOptions): Tensor {
  const t = new Tensor(h);
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}
let defaultDevice: Device = 'cpu';
/** Where factories put new tensors when no device is given (torch.set_default_device). */
export function setDefaultDevice(d: Device): void { defaultDevice = d; }
export function getDefaultDevice(): Device { return defaultDevice; }
const dt = (o: TensorOptions): DType => o.dtype ?? 'float32';
const dev = (o: TensorOptions): Device => o.device ?? defaultDevice;

export function zeros(shape: readonly number[], o: TensorOptions = {}): Tensor { return make(native.zeros([...shape], dt(o), dev(o)), o); }
export function ones(shape: readonly number[], o: TensorOptions = {}): Tensor { return make(native.ones([...shape], dt(o), dev(o)), o); }
export function empty(shape: readonly number[], o: TensorOptions = {}): Tensor { return make(native.empty([...shape], dt(o), dev(o)), o); }
export function full(shape: readonly number[], value: number, o: TensorOptions = {}): Tensor {
  return make(native.full([...shape], value, dt(o), dev(o)), o);
}
/** Uniform [0, 1), from the global generator seeded by manualSeed. */
export function rand(shape: readonly number[], o: TensorOptions = {}): Tensor { return make(native.rand([...shape], dt(o), dev(o)), o); }
/** Standard normal, from the global generator. */
export function randn(shape: readonly number[], o: TensorOptions = {}): Tensor { return make(native.randn([...shape], dt(o), dev(o)), o); }
export function arange(start: number, end?: number, step = 1, o: TensorOptions = {}): Tensor {
  const [a, b] = end === undefined ? [0, start] : [start, end];
  return make(native.arange(a, b, step, o.dtype ?? 'int64', dev(o)), o);
}
export function randperm(n: number): Tensor { return new Tensor(native.randperm(n)); }

const ARRAY_DTYPE = new Map<unknown, DType>([
  [Float32Array, 'float32'], [Float64Array, 'float64'], [BigInt64Array, 'int64'], [Int32Array, 'int32'], [Uint8Array, 'uint8'],
]);

/** Copies a typed array (or nested number arrays, as float32) into a new tensor. */
export function tensor(data: TypedArray | number[] | number[][], shape?: readonly number[], o: TensorOptions = {}): Tensor {
  let arr: TypedArray;
  let inferred: number[];
  if (Array.isArray(data)) {
    const rows = data as (number | number[])[];
    const nested = rows.length > 0 && Array.isArray(rows[0]);
    const flat = nested ? (rows as number[][]).flat() : (rows as number[]);
    inferred = nested ? [rows.length, (rows[0] as number[]).length] : [rows.length];
    arr = new Float32Array(flat);
  } else {
    arr = data;
    inferred = [data.length];
  }
  const srcType = ARRAY_DTYPE.get(arr.constructor) ?? 'float32';
  const base = new Tensor(native.fromBuffer(arr, [...(shape ?? inferred)], srcType));
  let t = base;
  if (o.dtype && o.dtype !== srcType) { t = base.to(o.dtype); base.dispose(); }
  const target = o.device ?? defaultDevice;
  if (target !== 'cpu') { const m = t.to(target); t.dispose(); t = m; }
  if (o.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** A 0-d tensor. */
export function scalar(v: number, o: TensorOptions = {}): Tensor { return full([], v, o); }

export function cat(ts: readonly Tensor[], dim = 0): Tensor { return new Tensor(native.cat(ts.map((t) => t.handle), dim)); }
export function stack(ts: readonly Tensor[], dim = 0): Tensor { return new Tensor(native.stack(ts.map((t) => t.handle), dim)); }
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor { return new Tensor(native.where(cond.handle, a.handle, b.handle)); }
