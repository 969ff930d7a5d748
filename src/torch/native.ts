// Loads the compiled addon (native/build/Release/nanscope_native.node) and gives it a type.
// The addon is deliberately dumb: every function maps to one libtorch call. Meaning lives in
// tensor.ts and functional.ts.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeOps } from './ops.generated.js';

/** What loading the addon changed for the whole process (each can be turned off, see runtime.ts). */
export interface ProcessEffects { mallocTuning: boolean; cpuAllocator: boolean }

/** The caching CPU allocator's counters (all 0 when NANSCOPE_CPU_ALLOCATOR=0). */
export interface CpuCacheStats { cachedBytes: number; limitBytes: number; hits: number; misses: number; evictions: number }

/** Opaque native tensor handle; only src/torch touches it. */
export interface NativeHandle {
  dispose(): void;
  isDisposed(): boolean;
}
type H = NativeHandle;

/**
 * The addon: the ops listed in native/src/ops.def (their types are generated from that list into
 * ops.generated.ts), and below, the functions addon.cc, allocator.cc, probe.cc and watch.cc
 * register themselves.
 */
export interface NativeModule extends NativeOps {
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
