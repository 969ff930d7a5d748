// The Tensor class: a JS object owning one native torch::Tensor reference. Method names follow
// PyTorch (camelCase), so a d2l reader recognises `X.mean([0, 2, 3], true)` or `p.add_(g, -lr)`.
// The methods that are one native call each (neg, add, matmul, transpose, ...) come from
// native/src/ops.def through TensorOps (ops.generated.ts); those written here add defaults,
// rest parameters, getters or a choice between ops.
import { native, type NativeHandle } from './native.js';
import { TensorOps } from './ops.generated.js';
import { track, keep, setTensorGuard } from './scope.js';

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool';
export type Device = string; // 'cpu' | 'cuda' | 'cuda:0' ...
export type Shape = readonly number[];
export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

const DTYPE_ARRAY: Record<DType, new (b: ArrayBuffer) => TypedArray> = {
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array, uint8: Uint8Array, bool: Uint8Array,
};

function dims(d: number | readonly number[] | undefined): number[] {
  if (d === undefined) return [];
  return typeof d === 'number' ? [d] : [...d];
}

export class Tensor extends TensorOps {
  /** Set by keep(): no tidy() scope disposes this tensor. */
  kept = false;
  private readonly h: NativeHandle;
  /** The handle `grad` hands out (see there). */
  private gradHandle: Tensor | null = null;

  /** Wraps a native handle; tracked by the innermost tidy() scope. */
  constructor(handle: NativeHandle) {
    super();
    this.h = handle;
    track(this);
  }

  /** The native handle, for src/torch internals and the probe kernels. */
  override get handle(): NativeHandle { return this.h; }
  protected override wrap(h: NativeHandle): Tensor { return new Tensor(h); }
  dispose(): void {
    this.gradHandle?.dispose();
    this.gradHandle = null;
    this.h.dispose();
  }
  get isDisposed(): boolean { return this.h.isDisposed(); }

  // ---- metadata ----
  get shape(): number[] { return native.shape(this.h); }
  size(dim?: number): number | number[] {
    const s = this.shape;
    return dim === undefined ? s : s[dim < 0 ? s.length + dim : dim];
  }
  get ndim(): number { return this.shape.length; }
  get dtype(): DType { return native.dtype(this.h) as DType; }
  /** Bytes of its elements (PyTorch's Tensor.nbytes). */
  get nbytes(): number { return this.numel() * (DTYPE_ARRAY[this.dtype] as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT; }
  get device(): Device { return native.device(this.h); }
  numel(): number { return native.numel(this.h); }
  get requiresGrad(): boolean { return native.requiresGrad(this.h); }
  get isLeaf(): boolean { return native.isLeaf(this.h); }
  /** Name of the autograd node that made this tensor (e.g. "ConvolutionBackward0"), or null. */
  get gradFn(): string | null { return native.gradFnName(this.h); }

  // ---- data out ----
  item(): number { return native.item(this.h); }
  toFloat32Array(): Float32Array {
    if (this.dtype === 'float32') return new Float32Array(native.toBuffer(this.h));
    const f = new Tensor(native.to(this.h, 'float32'));
    try { return new Float32Array(native.toBuffer(f.h)); } finally { f.dispose(); }
  }
  /** Values as the typed array matching the dtype (a copy). */
  data(): TypedArray { return new DTYPE_ARRAY[this.dtype](native.toBuffer(this.h)); }
  toArray(): number[] { return Array.from(this.toFloat32Array()); }

  // ---- elementwise (the rest are in TensorOps) ----
  /** s - this */
  rsub(s: number): Tensor { return new Tensor(native.rsubScalar(this.h, s)); }
  clamp(min: number | null, max: number | null = null): Tensor { return new Tensor(native.clamp(this.h, min, max)); }

  // ---- reductions (dim omitted = all elements) ----
  sum(dim?: number | readonly number[], keepdim = false): Tensor { return new Tensor(native.sum(this.h, dims(dim), keepdim)); }
  mean(dim?: number | readonly number[], keepdim = false): Tensor { return new Tensor(native.mean(this.h, dims(dim), keepdim)); }
  /** Variance; unbiased (Bessel) by default, as torch.var. */
  var(dim?: number | readonly number[], opts: { unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
    return new Tensor(native.var(this.h, dims(dim), opts.unbiased ?? true, opts.keepdim ?? false));
  }
  amax(dim?: number | readonly number[], keepdim = false): Tensor { return new Tensor(native.amax(this.h, dims(dim), keepdim)); }
  amin(dim?: number | readonly number[], keepdim = false): Tensor { return new Tensor(native.amin(this.h, dims(dim), keepdim)); }
  max(): Tensor { return this.amax(); }
  min(): Tensor { return this.amin(); }
  argmax(dim?: number, keepdim = false): Tensor { return new Tensor(native.argmax(this.h, dim ?? null, keepdim)); }
  norm(p = 2, dim?: number | readonly number[], keepdim = false): Tensor { return new Tensor(native.norm(this.h, p, dims(dim), keepdim)); }

  // ---- shape ----
  reshape(...shape: number[]): Tensor { return new Tensor(native.reshape(this.h, shape)); }
  view(...shape: number[]): Tensor { return new Tensor(native.view(this.h, shape)); }
  flatten(startDim = 0, endDim = -1): Tensor { return new Tensor(native.flatten(this.h, startDim, endDim)); }
  permute(...d: number[]): Tensor { return new Tensor(native.permute(this.h, d)); }
  get T(): Tensor { return this.transpose(0, 1); }
  expand(...shape: number[]): Tensor { return new Tensor(native.expand(this.h, shape)); }
  to(target: DType | Device): Tensor {
    return isDType(target) ? new Tensor(native.to(this.h, target)) : new Tensor(native.toDevice(this.h, target));
  }
  float(): Tensor { return this.to('float32'); }
  long(): Tensor { return this.to('int64'); }

  // ---- in place (return this, as PyTorch does; mul_, div_, zero_, fill_, copy_, relu_ are in TensorOps) ----
  /** this += alpha * other */
  add_(other: Tensor | number, alpha = 1): this {
    if (typeof other === 'number') native.addScalar_(this.h, other * alpha);
    else native.add_(this.h, other.h, alpha);
    return this;
  }
  sub_(other: Tensor | number, alpha = 1): this { return this.add_(other, -alpha); }
  uniform_(a = 0, b = 1): this { native.uniform_(this.h, a, b); return this; }
  normal_(mean = 0, std = 1): this { native.normal_(this.h, mean, std); return this; }

  // ---- autograd ----
  requiresGrad_(on = true): this { native.setRequiresGrad(this.h, on); return this; }
  backward(gradient?: Tensor, opts: { retainGraph?: boolean } = {}): void {
    native.backward(this.h, gradient ? gradient.h : null, opts.retainGraph ?? false);
  }
  /**
   * The accumulated gradient, or null. The handle belongs to this tensor, as p.grad does to p in
   * PyTorch: reading it again returns the same handle while the gradient is the same tensor (no
   * allocation per read), it survives tidy(), and it is freed when the gradient is replaced or
   * this tensor is disposed. Disposing it by hand is allowed (the next read makes a new one).
   */
  get grad(): Tensor | null {
    const c = this.gradHandle;
    if (c && !c.isDisposed && native.isGradOf(c.h, this.h)) return c;
    c?.dispose();
    const g = native.grad(this.h);
    this.gradHandle = g ? keep(new Tensor(g)) : null;
    return this.gradHandle;
  }
  set grad(g: Tensor | null) {
    this.gradHandle?.dispose();
    this.gradHandle = null;
    native.setGrad(this.h, g ? g.h : null);
  }
  retainGrad(): void { native.retainGrad(this.h); }

  override toString(): string {
    if (this.isDisposed) return 'Tensor(disposed)';
    const n = this.numel();
    const vals = n <= 8 ? `[${this.toArray().map((v) => +v.toPrecision(5)).join(', ')}]` : `<${n} values>`;
    return `Tensor(${vals}, shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }
}

export function isDType(s: string): s is DType {
  return s in DTYPE_ARRAY;
}

setTensorGuard((v: unknown): v is Tensor => v instanceof Tensor);
