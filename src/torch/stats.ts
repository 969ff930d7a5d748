// One-pass tensor statistics from the native probe kernel (native/src/probe.cc). Everything a
// probe reports (norms, mean/std, max|x|, dead fraction, NaN/Inf counts) derives from these.
import { native } from './native.js';
import type { Tensor } from './tensor.js';

export const STAT_FIELDS = ['numel', 'sum', 'sumsq', 'maxAbs', 'min', 'max', 'nan', 'posInf', 'negInf', 'zeros', 'sat'] as const;

export interface TensorStats {
  numel: number;
  /** Sum, sum of squares, extremes: over the finite elements only. */
  sum: number; sumsq: number; maxAbs: number; min: number; max: number;
  nan: number; posInf: number; negInf: number;
  /** Finite elements equal to 0 (dead ReLU outputs). */
  zeros: number;
  /** Finite elements outside the band asked for (saturated units); 0 when no band was given. */
  sat: number;
}

/** An open interval (lo, hi): stats() counts the finite elements outside it in `sat`. */
export interface Band { lo: number; hi: number }

export function fromRaw(r: ArrayLike<number>, o = 0): TensorStats {
  return { numel: r[o], sum: r[o + 1], sumsq: r[o + 2], maxAbs: r[o + 3], min: r[o + 4], max: r[o + 5],
    nan: r[o + 6], posInf: r[o + 7], negInf: r[o + 8], zeros: r[o + 9], sat: r[o + 10] };
}

/** One native pass; with a band, also the count outside it (same pass, one compare per element). */
export function stats(t: Tensor, band?: Band): TensorStats {
  return fromRaw(band ? native.stats(t.handle, band.lo, band.hi) : native.stats(t.handle));
}

/**
 * stats() for a probe tap: a tensor covering the same memory as one reduced before, unwritten
 * since (a plain stack's input gradient is the previous layer's output gradient; a container's
 * output is its last child's), gets the numbers already computed (native/src/probe.cc).
 */
export function tapStats(t: Tensor, band?: Band): TensorStats {
  return fromRaw(band ? native.tapStats(t.handle, band.lo, band.hi) : native.tapStats(t.handle));
}

/** stats() of many tensors in one native call: STAT_FIELDS.length numbers per tensor. */
export function statsMany(ts: readonly Tensor[]): Float64Array { return native.statsMany(ts.map((t) => t.handle)); }

/**
 * Per channel of a [N, C] or [N, C, H, W] batch, in one native read: [mean, var, mean_a, var_a,
 * mean_b, var_b, runMean, runVar], the whole batch then its halves (images [0, h), [h, 2h),
 * h = floor(N / 2)), biased variances (NaN halves when N < 2), then the two running buffers'
 * values (C elements each, any shape). Null unless x is contiguous float32 on the CPU.
 */
export function bnMoments(x: Tensor, runMean: Tensor, runVar: Tensor): Float64Array | null {
  return native.bnMoments(x.handle, runMean.handle, runVar.handle);
}

/** Per parameter, in one native call: [stats(p), stats(p.grad)] (the second all NaN without a gradient). */
export function paramStats(ps: readonly Tensor[]): { param: TensorStats; grad: TensorStats | null }[] {
  const r = native.paramStats(ps.map((p) => p.handle));
  const K = STAT_FIELDS.length;
  return ps.map((_, i) => ({ param: fromRaw(r, 2 * K * i), grad: Number.isNaN(r[2 * K * i + K]) ? null : fromRaw(r, 2 * K * i + K) }));
}

export const nonFinite = (s: TensorStats): number => s.nan + s.posInf + s.negInf;
/** L2 norm; Infinity when any element is non-finite (that is what torch.norm would say, or NaN). */
export const l2 = (s: TensorStats): number => (nonFinite(s) > 0 ? (s.nan > 0 ? NaN : Infinity) : Math.sqrt(s.sumsq));
export const mean = (s: TensorStats): number => s.sum / Math.max(1, s.numel - nonFinite(s));
export const std = (s: TensorStats): number => {
  const n = Math.max(1, s.numel - nonFinite(s));
  return Math.sqrt(Math.max(0, s.sumsq / n - (s.sum / n) ** 2));
};

// ---- magnitude histograms (native/src/probe.cc, histFloat) ----------------------------------
export { HIST_BINS, HIST_ZERO, HIST_NONFINITE, histBinLower, histBinOf } from './hist-bins.js';

/** Counts of |x| per bin over the whole tensor, in one native pass. */
export function histogram(t: Tensor): Float64Array { return native.histogram(t.handle); }
