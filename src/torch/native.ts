// Loads the compiled addon (native/build/Release/nanscope_native.node) and gives it a type.
// The addon is deliberately dumb: every function maps to one libtorch call. Meaning lives in
// tensor.ts and functional.ts.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What loading the addon changed for the whole process (each can be turned off, see runtime.ts). */
export interface ProcessEffects { mallocTuning: boolean; cpuAllocator: boolean }

/** The caching CPU allocator's counters (all 0 when NANSCOPE_CPU_ALLOCATOR=0). */
export interface CpuCacheStats { cachedBytes: number; limitBytes: number; hits: number; misses: number }

/** Opaque native tensor handle; only src/torch touches it. */
export interface NativeHandle {
  dispose(): void;
  isDisposed(): boolean;
}
type H = NativeHandle;
type Dims = number[];
type Opt<T> = T | null;

export interface NativeModule {
  zeros(shape: Dims, dtype: string, device: string): H;
  ones(shape: Dims, dtype: string, device: string): H;
  empty(shape: Dims, dtype: string, device: string): H;
  full(shape: Dims, value: number, dtype: string, device: string): H;
  rand(shape: Dims, dtype: string, device: string): H;
  randn(shape: Dims, dtype: string, device: string): H;
  arange(start: number, end: number, step: number, dtype: string, device: string): H;
  randperm(n: number): H;
  fromBuffer(data: ArrayBufferView, shape: Dims, dtype: string): H;
  toBuffer(t: H): ArrayBuffer;
  writeFd(t: H, fd: number): void;
  readFd(fd: number, offset: number, shape: Dims, dtype: string): H;
  item(t: H): number;
  shape(t: H): Dims;
  dtype(t: H): string;
  device(t: H): string;
  numel(t: H): number;
  requiresGrad(t: H): boolean;
  isLeaf(t: H): boolean;
  gradFnName(t: H): string | null;
  sameStorage(a: H, b: H): boolean;
  [unary: string]: unknown;
  add(a: H, b: H): H; sub(a: H, b: H): H; mul(a: H, b: H): H; div(a: H, b: H): H; pow(a: H, b: H): H;
  eq(a: H, b: H): H; ne(a: H, b: H): H; gt(a: H, b: H): H; lt(a: H, b: H): H; ge(a: H, b: H): H; le(a: H, b: H): H;
  maximum(a: H, b: H): H; minimum(a: H, b: H): H; logicalAnd(a: H, b: H): H; logicalOr(a: H, b: H): H;
  matmul(a: H, b: H): H; mul_(a: H, b: H): H; div_(a: H, b: H): H; copy_(a: H, b: H): H;
  add_(a: H, b: H, alpha: number): H;
  where(c: H, a: H, b: H): H;
  clamp(t: H, lo: Opt<number>, hi: Opt<number>): H;
  uniform_(t: H, a: number, b: number): H;
  normal_(t: H, mean: number, std: number): H;
  equal(a: H, b: H): boolean;
  sum(t: H, dims: Dims, keepdim: boolean): H;
  mean(t: H, dims: Dims, keepdim: boolean): H;
  var(t: H, dims: Dims, unbiased: boolean, keepdim: boolean): H;
  amax(t: H, dims: Dims, keepdim: boolean): H;
  amin(t: H, dims: Dims, keepdim: boolean): H;
  argmax(t: H, dim: Opt<number>, keepdim: boolean): H;
  norm(t: H, p: number, dims: Dims, keepdim: boolean): H;
  reshape(t: H, shape: Dims): H; view(t: H, shape: Dims): H;
  flatten(t: H, start: number, end: number): H;
  permute(t: H, dims: Dims): H; transpose(t: H, a: number, b: number): H;
  squeeze(t: H, dim: number): H; unsqueeze(t: H, dim: number): H; expand(t: H, shape: Dims): H;
  narrow(t: H, dim: number, start: number, len: number): H;
  indexSelect(t: H, dim: number, index: H): H; select(t: H, dim: number, index: number): H;
  to(t: H, dtype: string): H; toDevice(t: H, device: string): H;
  cat(ts: H[], dim: number): H; stack(ts: H[], dim: number): H;
  linear(x: H, w: H, b: Opt<H>): H;
  conv2d(x: H, w: H, b: Opt<H>, stride: Dims, padding: Dims, dilation: Dims, groups: number): H;
  maxPool2d(x: H, k: Dims, s: Dims, p: Dims, d: Dims, ceil: boolean): H;
  avgPool2d(x: H, k: Dims, s: Dims, p: Dims, ceil: boolean, countPad: boolean): H;
  adaptiveAvgPool2d(x: H, size: Dims): H;
  dropout(x: H, p: number, train: boolean): H;
  logSoftmax(x: H, dim: number): H; softmax(x: H, dim: number): H;
  crossEntropy(x: H, target: H, reduction: string): H;
  nllLoss(x: H, target: H, reduction: string): H;
  mseLoss(x: H, target: H, reduction: string): H;
  batchNorm(x: H, w: Opt<H>, b: Opt<H>, rm: Opt<H>, rv: Opt<H>, training: boolean, momentum: number, eps: number): H;
  upsampleBilinear(x: H, size: Dims, alignCorners: boolean): H;
  setRequiresGrad(t: H, on: boolean): void;
  backward(t: H, grad: Opt<H>, retainGraph: boolean): void;
  grad(t: H): H | null;
  isGradOf(g: H, p: H): boolean;
  setGrad(t: H, g: Opt<H>): void;
  retainGrad(t: H): void;
  isGradEnabled(): boolean;
  setGradEnabled(on: boolean): boolean;
  manualSeed(seed: number): void;
  getRngState(device?: string): H;
  setRngState(t: H, device?: string): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  cudaIsAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(): void;
  liveTensors(): number;
  version(): string;
  configShow(): string;
  processEffects(): ProcessEffects;
  cpuCacheStats(): CpuCacheStats;
  emptyCpuCache(): void;
  stats(t: H, lo?: number, hi?: number): Float64Array;
  tapStats(t: H, lo?: number, hi?: number): Float64Array;
  statsMany(ts: H[]): Float64Array;
  paramStats(ps: H[]): Float64Array;
  bnMoments(x: H, runMean: H, runVar: H): Float64Array | null;
  histogram(t: H): Float64Array;
  setGradHist(on: boolean): void;
  readGradHists(n: number): Float64Array;
  gradProbe(t: H, slot: number, hist?: boolean): void;
  readGradProbes(n: number): Float64Array;
  gradFault(t: H, index: number, value: number): void;
  firstNonFinite(t: H): number;
  watchForward(on: boolean): void;
  watchScope(scope: number): void;
  watchForwardResult(): { ops: number; bad: WatchEvent | null };
  watchBackward(t: H): void;
  watchBackwardResult(): { nodes: number; bad: WatchEvent | null };
}

/** The first non-finite value the locator's native watch saw (forward: an aten op; backward: an autograd node). */
export interface WatchEvent {
  /** Ops (or nodes) that finished before this one. */
  index: number;
  /** aten op ("aten::addmm") or autograd node ("AddmmBackward0"). */
  name: string;
  /** Forward: the aten ops it ran inside, outermost first, " > "-joined, ending with name. */
  stack: string;
  /** Backward: the aten op that created the node, or null (AccumulateGrad). */
  forwardOp: string | null;
  /** Layer index (Probes' execution index) the op ran in; -1 outside every layer. */
  scope: number;
  /** Backward: the gradient arriving at the node was already non-finite. */
  inputsBad: boolean;
  /** Which output first held a non-finite value (-1: only the inputs did). */
  output: number;
  nan: number; posInf: number; negInf: number;
  /** Backward, AccumulateGrad: a new handle on the parameter whose gradient it was (the caller disposes it). */
  variable: H | null;
}

/** Unary ops the addon registers under these names: (t) => new tensor (or in-place for `_`). */
export type UnaryName =
  | 'neg' | 'abs' | 'sqrt' | 'exp' | 'log' | 'relu' | 'sigmoid' | 'tanh' | 'square' | 'reciprocal'
  | 'isfinite' | 'isnan' | 'isinf' | 'logicalNot' | 'detach' | 'alias' | 'clone' | 'contiguous' | 'any' | 'all'
  | 'relu_' | 'zero_';
/** Tensor-scalar ops: (t, s) => tensor. */
export type ScalarName =
  | 'addScalar' | 'subScalar' | 'mulScalar' | 'divScalar' | 'powScalar' | 'rsubScalar' | 'eqScalar'
  | 'gtScalar' | 'ltScalar' | 'geScalar' | 'leScalar' | 'fill_' | 'mulScalar_' | 'addScalar_' | 'divScalar_';

function load(): NativeModule {
  const here = dirname(fileURLToPath(import.meta.url));
  // src/torch or dist/src/torch: walk up to the package root.
  const candidates = [join(here, '../../native/build/Release/nanscope_native.node'),
    join(here, '../../../native/build/Release/nanscope_native.node')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new Error('nanscope: the native addon is not built. Run `npm run build:native` ' +
      '(needs libtorch: `apt-get install libtorch-dev`, or LIBTORCH=/path/to/libtorch).');
  }
  return createRequire(import.meta.url)(found) as NativeModule;
}

export const native: NativeModule = load();

export function unary(name: UnaryName, t: H): H {
  return (native[name] as (t: H) => H)(t);
}
export function scalarOp(name: ScalarName, t: H, s: number): H {
  return (native[name] as (t: H, s: number) => H)(t, s);
}
