// What a BatchNorm layer normalised by on a training step: the mini-batch mean and (biased)
// variance of its input per channel, compared with the layer's own running estimate before
// this step updated it. The seed's second principle ("a mini-batch is a random sample, so it
// brings noise") is this gap: how far the statistics BN divided by sat from the population
// estimate, step after step. Two numbers per BN layer per step, in the probe record:
//   bn_mean_dev: RMS over channels of (batch mean - running mean) / sqrt(running var + eps)
//   bn_var_dev:  RMS over channels of ln((batch var + eps) / (running var + eps))
// Both are 0 for a batch whose statistics equal the running ones; for independent samples they
// shrink like 1/sqrt(values per channel), so batch 16 should sit about 4x above batch 256.
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

export interface BnDeviation { meanDev: number; varDev: number }

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
    return { meanDev: Math.sqrt(z.pow(2).mean().item()), varDev: Math.sqrt(lv.pow(2).mean().item()) };
  }));
}
