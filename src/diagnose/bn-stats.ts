// What a BatchNorm layer normalised by on a training step: the mini-batch mean and (biased)
// variance of its input per channel, compared with the layer's own running estimate before
// this step updated it. The seed's second principle ("a mini-batch is a random sample, so it
// brings noise") is this gap: how far the statistics BN divided by sat from the population
// estimate, step after step. Two numbers per BN layer per step, in the probe record:
//   bn_mean_dev: RMS over channels of (batch mean - running mean) / sqrt(running var + eps)
//   bn_var_dev:  RMS over channels of ln((batch var + eps) / (running var + eps))
// Both are 0 for a batch whose statistics equal the running ones. But the running estimate is an
// average over the last ~10 steps' weights, so this gap also holds how far the weights moved in
// those steps (weight drift), and with the lr scaled by the batch, drift grows with the batch. The
// sampling noise alone, at this step's weights, is measured by splitting the batch in two halves
// (images 0..h-1 and h..2h-1) and comparing them:
//   bn_mean_noise: RMS over channels of (half-1 mean - half-2 mean) / 2 / sqrt(batch var + eps)
//   bn_var_noise:  RMS over channels of ln((half-1 var + eps) / (half-2 var + eps)) / 2
// For images drawn independently, (m1 - m2) / 2 has the same variance as the full batch mean's
// sampling error (each half has half the images: Var(m1 - m2) = 4 Var(m)), and likewise for the
// log-variance, so these estimate the noise of the statistics BN divided by, in units of the
// channel's spread, with no drift in them: they shrink like 1/sqrt(batch), so batch 16 should sit
// about sqrt(256/16) = 4x above batch 256. NaN for batches under 4 images.
import { tidy, noGrad, type Tensor } from '../torch/index.js';
import type { Module } from '../nn/index.js';

/** The running-statistics buffers of a BN module: built-in (running_*) or d2l's from-scratch (moving_*). */
const PAIRS = [['running_mean', 'running_var'], ['moving_mean', 'moving_var']] as const;

/**
 * A BN layer's running mean and variance buffers as they are now, or null for any other module
 * (own buffers only). Look them up at each use: d2l's layer replaces its buffers every step.
 */
export function bnBuffers(m: Module): { mean: Tensor; var: Tensor; eps: number } | null {
  const own = new Map([...m.namedBuffers()].filter(([n]) => !n.includes('.')));
  for (const [mn, vn] of PAIRS) {
    const mean = own.get(mn), v = own.get(vn);
    // The built-in layers carry their eps; d2l's from-scratch layer calls batch_norm with 1e-5.
    const eps = (m as { eps?: unknown }).eps;
    if (mean && v) return { mean, var: v, eps: typeof eps === 'number' ? eps : 1e-5 };
  }
  return null;
}

export interface BnDeviation { meanDev: number; varDev: number; meanNoise: number; varNoise: number }

/**
 * The batch statistics BN computes from input x in training mode (per channel over the batch,
 * and over height and width for 4D input; variance biased, as both BN implementations divide
 * by), against the running estimate given. Computed outside autograd; frees what it makes.
 */
export function bnDeviation(x: Tensor, runMean: Tensor, runVar: Tensor, eps: number): BnDeviation {
  return tidy(() => noGrad(() => {
    const dims = x.ndim === 4 ? [0, 2, 3] : [0];
    const c = x.shape[1];
    const mean = x.mean(dims, true);
    const variance = x.sub(mean).pow(2).mean(dims);
    const rm = runMean.reshape(c), rv = runVar.reshape(c).add(eps);
    const z = mean.reshape(c).sub(rm).div(rv.sqrt());
    const lv = variance.add(eps).div(rv).log();
    const rms = (t: Tensor) => Math.sqrt(t.pow(2).mean().item());
    const noise = splitHalf(x, variance, eps);
    return { meanDev: rms(z), varDev: rms(lv), meanNoise: noise ? rms(noise.mean) : NaN, varNoise: noise ? rms(noise.logVar) : NaN };
  }));
}

/**
 * The two halves of the batch compared per channel, at this step's weights: (m1 - m2) / 2 in units
 * of the batch's std, and ln(v1 / v2) / 2 (see the header). Null when a half would hold under 2 images.
 */
function splitHalf(x: Tensor, batchVar: Tensor, eps: number): { mean: Tensor; logVar: Tensor } | null {
  const h = Math.floor(x.shape[0] / 2);
  if (h < 2) return null;
  // [2h, C, ...] -> [2, h, C, ...]: the statistics of each half over its images (and pixels).
  const halves = x.narrow(0, 0, 2 * h).reshape(2, h, ...x.shape.slice(1));
  const dims = x.ndim === 4 ? [1, 3, 4] : [1];
  const m = halves.mean(dims), v = halves.var(dims, { unbiased: false });
  const mean = m.select(0, 0).sub(m.select(0, 1)).div(batchVar.add(eps).sqrt()).mul(0.5);
  const logVar = v.select(0, 0).add(eps).div(v.select(0, 1).add(eps)).log().mul(0.5);
  return { mean, logVar };
}
