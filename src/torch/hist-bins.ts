// The bin layout of the native magnitude histograms (native/src/probe.cc, histFloat), with no
// native code attached, so the store, server and dashboard can label bins without the addon.
/** Bins per histogram: 128 magnitude bins of two octaves each, then zeros, then NaN/±Inf. */
export const HIST_BINS = 130;
export const HIST_ZERO = 128;
export const HIST_NONFINITE = 129;
/** Lower edge of magnitude bin b (0 <= b < 128): |x| in [2^(2b-127), 2^(2b-125)). Bin 0 also holds subnormals. */
export const histBinLower = (b: number): number => 2 ** (2 * b - 127);
/** The bin a finite, non-zero magnitude falls in (what the kernel computes from the exponent bits). */
export function histBinOf(x: number): number {
  if (!Number.isFinite(x)) return HIST_NONFINITE;
  if (x === 0) return HIST_ZERO;
  const f = new Float32Array([x]);
  return (new Uint32Array(f.buffer)[0] >>> 23 & 0xff) >> 1;
}
