/**
 * Square uint8 grayscale resize, byte-identical to torchvision's
 * `transforms.Resize(R)` on a PIL 'L' image, i.e. Pillow's
 * `Image.resize((R, R), BILINEAR)` (libImaging/Resample.c, 8-bit path):
 *
 *  - separable: a horizontal pass into a temporary (only the source rows the
 *    vertical pass will read), then a vertical pass;
 *  - triangle filter, support 1 scaled by max(in/out, 1), so downscaling
 *    averages (antialiases) rather than point-samples;
 *  - per-output-pixel weights normalized to sum 1, then converted to fixed
 *    point with PRECISION_BITS = 32 - 8 - 2 = 22 (round half away from zero);
 *  - each pass accumulates from 1 << (PRECISION_BITS - 1) (rounding), shifts
 *    right by PRECISION_BITS and clamps to 0..255 -- so the intermediate is
 *    rounded to uint8 after EACH pass, exactly like Pillow.
 *
 * Coefficients depend only on (in, out), so a Resizer computes them once;
 * resizeInto() then allocates nothing. Same size returns a copy (Pillow does too).
 */

const PRECISION_BITS = 32 - 8 - 2;

interface Coeffs {
  /** Max taps per output pixel (stride of `k`). */
  ksize: number;
  /** Per output pixel: first input index. */
  min: Int32Array;
  /** Per output pixel: number of taps actually used. */
  len: Int32Array;
  /** Fixed-point weights, `ksize` per output pixel. */
  k: Int32Array;
}

function triangle(x: number): number {
  const a = x < 0 ? -x : x;
  return a < 1 ? 1 - a : 0;
}

/** Port of Pillow's precompute_coeffs + normalize_coeffs_8bpc (box = whole image). */
function precompute(inSize: number, outSize: number): Coeffs {
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = 1 * filterscale; // BILINEAR support = 1
  const ksize = Math.ceil(support) * 2 + 1;
  const min = new Int32Array(outSize);
  const len = new Int32Array(outSize);
  const k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) cast truncates toward zero; negatives get clamped to 0 anyway.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const v = triangle((x + xmin - center + 0.5) * ss);
      w[x] = v;
      ww += v;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? w[x] / ww : w[x];
      const f = v * (1 << PRECISION_BITS);
      k[xx * ksize + x] = Math.trunc(v < 0 ? f - 0.5 : f + 0.5);
    }
    min[xx] = xmin;
    len[xx] = xmax;
  }
  return { ksize, min, len, k };
}

/**
 * Pillow's clip8: arithmetic shift, then clamp to uint8. Weights are >= 0 and
 * sum to ~2^22, so acc <= 255 * (2^22 + ksize) + 2^21 < 2^31: no int overflow.
 */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

export class Resizer {
  readonly inSize: number;
  readonly outSize: number;
  private readonly c: Coeffs;
  /** Horizontal-pass output: outSize columns x the source rows the vertical pass reads. */
  private readonly tmp: Uint8Array;
  private readonly rowFirst: number;
  private readonly rowCount: number;

  constructor(inSize: number, outSize: number) {
    if (!Number.isInteger(inSize) || inSize < 1 || !Number.isInteger(outSize) || outSize < 1) {
      throw new RangeError(`Resizer: sizes must be positive integers, got ${inSize} -> ${outSize}`);
    }
    this.inSize = inSize;
    this.outSize = outSize;
    // Square images: horizontal and vertical coefficient tables are the same.
    this.c = precompute(inSize, outSize);
    this.rowFirst = this.c.min[0];
    this.rowCount = this.c.min[outSize - 1] + this.c.len[outSize - 1] - this.rowFirst;
    this.tmp = new Uint8Array(outSize * this.rowCount);
  }

  /** Resize the inSize^2 image at src[srcOffset..] into dst[dstOffset..] (outSize^2 bytes). */
  resizeInto(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number): void {
    const n = this.inSize;
    const m = this.outSize;
    if (srcOffset < 0 || srcOffset + n * n > src.length || dstOffset < 0 || dstOffset + m * m > dst.length) {
      throw new RangeError('Resizer.resizeInto: offset out of range');
    }
    if (n === m) {
      dst.set(src.subarray(srcOffset, srcOffset + n * n), dstOffset);
      return;
    }
    const { ksize, min, len, k } = this.c;
    const tmp = this.tmp;
    const bias = 1 << (PRECISION_BITS - 1);
    // Horizontal pass: rows rowFirst .. rowFirst+rowCount of the source.
    for (let y = 0; y < this.rowCount; y++) {
      const rowIn = srcOffset + (y + this.rowFirst) * n;
      const rowOut = y * m;
      for (let xx = 0; xx < m; xx++) {
        const x0 = rowIn + min[xx];
        const kb = xx * ksize;
        const l = len[xx];
        let acc = bias;
        for (let x = 0; x < l; x++) acc += Math.imul(src[x0 + x], k[kb + x]);
        tmp[rowOut + xx] = clip8(acc);
      }
    }
    // Vertical pass over the temporary (bounds shifted by rowFirst, as Pillow does).
    // Upscaling (the d2l case, 28 -> 224) has at most 2 taps per output row;
    // a dedicated 2-tap loop is ~2.5x faster in V8 than the generic one.
    // Math.imul keeps everything in int32 (sums stay < 2^31, see clip8).
    for (let yy = 0; yy < m; yy++) {
      const r0 = (min[yy] - this.rowFirst) * m;
      const kb = yy * ksize;
      const l = len[yy];
      const rowOut = dstOffset + yy * m;
      if (l === 2) {
        const w0 = k[kb];
        const w1 = k[kb + 1];
        const r1 = r0 + m;
        for (let xx = 0; xx < m; xx++) {
          dst[rowOut + xx] = clip8(bias + Math.imul(tmp[r0 + xx], w0) + Math.imul(tmp[r1 + xx], w1));
        }
      } else {
        for (let xx = 0; xx < m; xx++) {
          let acc = bias;
          for (let y = 0; y < l; y++) acc += Math.imul(tmp[r0 + y * m + xx], k[kb + y]);
          dst[rowOut + xx] = clip8(acc);
        }
      }
    }
  }
}

const resizers = new Map<string, Resizer>();

/** Shared Resizer for (in, out): coefficient tables are built once per process. */
export function resizerFor(inSize: number, outSize: number): Resizer {
  const key = `${inSize}:${outSize}`;
  let r = resizers.get(key);
  if (!r) {
    r = new Resizer(inSize, outSize);
    resizers.set(key, r);
  }
  return r;
}

/** Convenience (allocating) single-image resize, mainly for tests and tools. */
export function resizeImage(src: Uint8Array, inSize: number, outSize: number): Uint8Array {
  const out = new Uint8Array(outSize * outSize);
  resizerFor(inSize, outSize).resizeInto(src, 0, out, 0);
  return out;
}
