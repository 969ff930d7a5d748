// The probe of BatchNorm's batch statistics (diagnose/bn-stats.ts): on a training step it must
// report the mean and the biased variance BN normalised by, against the running estimate as it
// was before that step, for the built-in layers and d2l's from-scratch one; and nothing for
// other layers or in evaluation. Checked against the same numbers computed here in plain JS from
// the BN layer's actual input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import { Sequential, Conv2d, Linear, Flatten, ReLU, BatchNorm2d, BatchNorm1d, BatchNorm, type Module } from '../src/nn/index.js';
import { Probes, FIELD, NF } from '../src/diagnose/index.js';
import { bnDeviation } from '../src/diagnose/bn-stats.js';
import { runTrainer } from './helpers.js';

/** Per channel: mean and biased variance over every axis but 1 (JS, float64). */
function channelStats(x: Float32Array, shape: number[]): { mean: number[]; variance: number[] } {
  const [n, c] = shape;
  const hw = shape.length === 4 ? shape[2] * shape[3] : 1;
  const mean: number[] = [], variance: number[] = [];
  for (let ch = 0; ch < c; ch++) {
    const v: number[] = [];
    for (let i = 0; i < n; i++) for (let k = 0; k < hw; k++) v.push(x[(i * c + ch) * hw + k]);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    mean.push(m);
    variance.push(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
  }
  return { mean, variance };
}

const rms = (a: number[]): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);

/** The split-half sampling noise (bn-stats.ts header), computed from the two halves' own statistics in JS. */
function expectedNoise(input: torch.Tensor): { meanNoise: number; varNoise: number } {
  const x = input.toFloat32Array(), shape = input.shape;
  const h = Math.floor(shape[0] / 2), per = x.length / shape[0];
  const half = (k: number) => channelStats(x.subarray(k * h * per, (k + 1) * h * per), [h, ...shape.slice(1)]);
  const a = half(0), b = half(1), all = channelStats(x, shape);
  const eps = 1e-5;
  return {
    meanNoise: rms(a.mean.map((m, c) => (m - b.mean[c]) / 2 / Math.sqrt(all.variance[c] + eps))),
    varNoise: rms(a.variance.map((v, c) => Math.log((v + eps) / (b.variance[c] + eps)) / 2)),
  };
}

function expected(input: torch.Tensor, runMean: torch.Tensor, runVar: torch.Tensor): { meanDev: number; varDev: number; unbiasedVarDev: number } {
  const s = channelStats(input.toFloat32Array(), input.shape);
  const rm = runMean.toFloat32Array(), rv = runVar.toFloat32Array();
  const eps = 1e-5;
  const n = input.shape.length === 4 ? input.shape[0] * input.shape[2] * input.shape[3] : input.shape[0];
  return {
    meanDev: rms(s.mean.map((m, c) => (m - rm[c]) / Math.sqrt(rv[c] + eps))),
    varDev: rms(s.variance.map((v, c) => Math.log((v + eps) / (rv[c] + eps)))),
    unbiasedVarDev: rms(s.variance.map((v, c) => Math.log((v * n / (n - 1) + eps) / (rv[c] + eps)))),
  };
}

for (const kind of ['builtin', 'scratch'] as const) {
  test(`bn probe (${kind}): the batch mean and biased variance BN used, against the running estimate before the step`, () => {
    torch.tidy(() => {
      torch.manualSeed(1);
      const bn2: Module = kind === 'builtin' ? new BatchNorm2d(3) : new BatchNorm(3, 4);
      const bn1: Module = kind === 'builtin' ? new BatchNorm1d(5) : new BatchNorm(5, 2);
      const net = new Sequential(new Conv2d(1, 3, 3), bn2, new ReLU(), new Flatten(), new Linear(3 * 4 * 4, 5), bn1);
      const probes = new Probes(net, [1, 1, 6, 6]);
      // What each BN layer was given, and its running buffers at that moment (before its forward updates them).
      const seen = new Map<Module, { x: torch.Tensor; mean: torch.Tensor; var: torch.Tensor }>();
      for (const m of [bn2, bn1]) {
        m.registerForwardPreHook((_m, x) => {
          const [mean, v] = [...m.namedBuffers()].filter(([k]) => /(running|moving)_(mean|var)/.test(k)).map(([, t]) => torch.keep(t.clone()));
          seen.set(m, { x: torch.keep(x.detach().clone()), mean, var: v });
        });
      }
      net.train();
      // Two steps: the second is compared with running statistics the first moved away from (0, 1).
      for (let step = 0; step < 2; step++) {
        const X = torch.rand([8, 1, 6, 6]).mul(3).add(step);
        probes.begin(true);
        net.call(X).sum().backward();
        const v = probes.end(X).values;
        for (const m of [bn2, bn1]) {
          const i = probes.layers.findIndex((l) => l.module === m);
          const s = seen.get(m)!;
          const e = expected(s.x, s.mean, s.var);
          const got = { meanDev: v[i * NF + FIELD.bn_mean_dev], varDev: v[i * NF + FIELD.bn_var_dev] };
          const what = `step ${step + 1}, ${probes.layers[i].alias} (${s.x.ndim}D)`;
          assert.ok(Math.abs(got.meanDev - e.meanDev) <= 1e-4 * Math.max(1, e.meanDev), `${what}: mean dev ${got.meanDev} vs ${e.meanDev}`);
          assert.ok(Math.abs(got.varDev - e.varDev) <= 1e-4 * Math.max(1, e.varDev), `${what}: var dev ${got.varDev} vs ${e.varDev}`);
          // The biased variance is the one BN divides by: with 8 values per channel the unbiased one is 8/7 larger.
          if (s.x.ndim === 2) assert.ok(Math.abs(got.varDev - e.unbiasedVarDev) > 1e-3, `${what}: biased, not unbiased variance`);
          if (step === 1) assert.ok(got.meanDev > 0 && got.varDev > 0);
          const en = expectedNoise(s.x);
          const gotNoise = { meanNoise: v[i * NF + FIELD.bn_mean_noise], varNoise: v[i * NF + FIELD.bn_var_noise] };
          assert.ok(Math.abs(gotNoise.meanNoise - en.meanNoise) <= 1e-4 * Math.max(1, en.meanNoise), `${what}: mean noise ${gotNoise.meanNoise} vs ${en.meanNoise}`);
          assert.ok(Math.abs(gotNoise.varNoise - en.varNoise) <= 1e-4 * Math.max(1, en.varNoise), `${what}: var noise ${gotNoise.varNoise} vs ${en.varNoise}`);
        }
        for (const l of probes.layers) {
          if (l.module !== bn2 && l.module !== bn1) assert.ok(Number.isNaN(v[l.index * NF + FIELD.bn_mean_dev]), `${l.alias}: not a BN layer`);
        }
        net.zeroGrad();
      }
      // Evaluation normalises by the running statistics: nothing to report.
      net.eval();
      const v = torch.noGrad(() => { probes.begin(false); net.call(torch.rand([8, 1, 6, 6])); return probes.end(torch.zeros([1])).values; });
      for (const l of probes.layers) assert.ok(Number.isNaN(v[l.index * NF + FIELD.bn_mean_dev]), `${l.alias} in eval`);
      probes.remove();
      for (const s of seen.values()) { s.x.dispose(); s.mean.dispose(); s.var.dispose(); }
      net.dispose();
    });
  });
}

test('bn sampling noise at fixed weights shrinks like 1/sqrt(batch): batch 16 about 4x batch 256, with no running estimate involved', () => {
  torch.tidy(() => {
    torch.manualSeed(3);
    // The running estimate is deliberately far off (mean 5, var 9): the drift measure sees it, the split-half one must not.
    const rm = torch.keep(torch.full([6], 5)), rv = torch.keep(torch.full([6], 9));
    const meanSq = (b: number, draws: number) => {
      let m = 0, v = 0, dev = 0;
      for (let i = 0; i < draws; i++) torch.tidy(() => {
        const d = bnDeviation(torch.rand([b, 6, 5, 5]), rm, rv, 1e-5);
        m += d.meanNoise ** 2; v += d.varNoise ** 2; dev += d.meanDev;
      });
      return { mean: Math.sqrt(m / draws), logVar: Math.sqrt(v / draws), dev: dev / draws };
    };
    const small = meanSq(16, 200), large = meanSq(256, 60);
    const rMean = small.mean / large.mean, rVar = small.logVar / large.logVar;
    assert.ok(rMean > 3.2 && rMean < 5, `mean noise ratio 16 vs 256: ${rMean} (sqrt(16) = 4)`);
    assert.ok(rVar > 3.2 && rVar < 5, `log-var noise ratio 16 vs 256: ${rVar} (sqrt(16) = 4)`);
    // The distance from a wrong running estimate does not shrink with the batch: it is not sampling noise.
    assert.ok(small.dev / large.dev < 1.2, `drift measure ratio ${small.dev / large.dev}`);
    rm.dispose(); rv.dispose();
  });
  assert.ok(Number.isNaN(torch.tidy(() => bnDeviation(torch.rand([3, 2]), torch.zeros([2]), torch.ones([2]), 1e-5)).meanNoise), 'under 4 images: NaN');
});

test('bn probe in a real run: recorded per BN layer per step and read back from the store (NaN for other layers)', async () => {
  const { store, runId } = await runTrainer({ model: 'lenet', bn: 'scratch', lr: 1, batchSize: 64, maxSteps: 6, limitTrain: 512 });
  try {
    const layers = store.getLayers(runId);
    const s = store.probeSeries(runId, 'bn_mean_dev');
    const vd = store.probeSeries(runId, 'bn_var_dev');
    assert.equal(s.steps.length, 6);
    const bn = layers.map((l, i) => [l, i] as const).filter(([l]) => l.kind === 'BatchNorm');
    assert.equal(bn.length, 4, 'LeNet-BN has four BN layers');
    for (let t = 0; t < s.steps.length; t++) {
      for (const [l, i] of layers.map((l, i) => [l, i] as const)) {
        const m = s.data[t * layers.length + i], v = vd.data[t * layers.length + i];
        if (l.kind === 'BatchNorm') assert.ok(Number.isFinite(m) && m > 0 && Number.isFinite(v) && v > 0, `step ${s.steps[t]} ${l.alias}: ${m}, ${v}`);
        else assert.ok(Number.isNaN(m) && Number.isNaN(v), `${l.alias}`);
      }
    }
  } finally { store.close(); }
});
