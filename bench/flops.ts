// FLOP count of a training step and the machine's peak, for "how close to the metal".
// A step is counted as 3x the forward FLOPs (forward, input gradients, weight gradients), with
// a multiply-add as 2 FLOPs; only conv and linear layers count (the rest is memory-bound).
// Peak = cores x clock x FLOPs/cycle/core: 32 for AVX2+FMA (2 FMA units x 8 float lanes x 2),
// 64 with AVX-512, 16 otherwise. Clock is /proc/cpuinfo's "cpu MHz" (current, not turbo).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { zeros, noGrad, tidy } from '../src/torch/index.js';
import { Conv2d, Linear, type Module, type HookHandle } from '../src/nn/index.js';

/** Every Conv2d and Linear at any depth, counted from its output shape on one image. */
export function trainingFlopsPerImage(net: Module, side: number): number {
  let flops = 0;
  const hooks: HookHandle[] = [];
  for (const [, m] of net.namedModules()) {
    if (m instanceof Conv2d) {
      hooks.push(m.registerForwardHook((_m, _x, y) => { const o = y.shape; flops += 2 * o[1] * o[2] * o[3] * m.inChannels * m.kernelSize[0] * m.kernelSize[1]; }));
    } else if (m instanceof Linear) {
      hooks.push(m.registerForwardHook(() => { flops += 2 * m.inFeatures * m.outFeatures; }));
    }
  }
  const wasTraining = net.training;
  net.eval();
  try {
    tidy(() => noGrad(() => { net.call(zeros([1, 1, side, side])); }));
  } finally {
    for (const h of hooks) h.remove();
    net.train(wasTraining);
  }
  return 3 * flops;
}

export function peakFlops(threads: number): { flops: number; how: string } {
  let mhz = 0;
  let flags = '';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    mhz = Number(/cpu MHz\s*:\s*([\d.]+)/.exec(info)?.[1] ?? 0);
    flags = /flags\s*:(.*)/.exec(info)?.[1] ?? '';
  } catch { /* not Linux */ }
  const perCycle = / avx512f/.test(flags) ? 64 : / avx2/.test(flags) && / fma/.test(flags) ? 32 : 16;
  const cores = Math.min(threads, availableParallelism());
  return { flops: cores * mhz * 1e6 * perCycle, how: `${cores} cores x ${mhz.toFixed(0)} MHz x ${perCycle} FLOP/cycle (${perCycle === 64 ? 'AVX-512' : perCycle === 32 ? 'AVX2+FMA' : 'SSE'} fp32)` };
}
