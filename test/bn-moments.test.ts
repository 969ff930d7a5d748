// The BN probe's native path (bnMoments: one read of the input per BN layer) against the
// tensor-op definition run in float64: same four numbers, for 4D and 2D batches, odd batch
// sizes (the odd image is in the batch statistics, in neither half), batches too small for
// halves, a mean far from 0 against the spread, and non-finite inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import { bnDeviation, bnDeviationOps, type BnDeviation } from '../src/diagnose/bn-stats.js';
import { bnMoments } from '../src/torch/stats.js';

const KEYS = ['meanDev', 'varDev', 'meanNoise', 'varNoise'] as const;

function close(got: BnDeviation, want: BnDeviation, what: string): void {
  for (const k of KEYS) {
    if (Number.isNaN(want[k])) { assert.ok(Number.isNaN(got[k]), `${what} ${k}: ${got[k]}, want NaN`); continue; }
    assert.ok(Math.abs(got[k] - want[k]) <= 1e-9 * Math.max(1, Math.abs(want[k])), `${what} ${k}: ${got[k]} vs ${want[k]}`);
  }
}

test('bn probe: the one-read native moments equal the tensor-op definition in float64', () => {
  torch.tidy(() => {
    torch.manualSeed(5);
    for (const [shape, offset] of [[[16, 8, 12, 12], 0], [[9, 5, 7, 3], 100], [[3, 4, 5, 5], 0], [[1, 3, 2, 2], 0],
      [[64, 120], 0], [[7, 10], 1000], [[4, 2, 1, 1], 0]] as [number[], number][]) {
      const x = torch.randn(shape).mul(2).add(offset);
      const c = shape[1];
      const rm = torch.randn([c]).add(offset), rv = torch.rand([c]).add(0.5);
      const want = bnDeviationOps(x.to('float64'), rm.to('float64'), rv.to('float64'), 1e-5);
      assert.ok(bnMoments(x, rm, rv) !== null, `${shape}: native path taken`);
      close(bnDeviation(x, rm, rv, 1e-5), want, `[${shape}] + ${offset}`);
    }
  });
});

test('bn probe: d2l\'s [1, C, 1, 1] buffers, non-contiguous input (tensor-op path), and NaN/Inf inputs', () => {
  torch.tidy(() => {
    torch.manualSeed(6);
    const x = torch.randn([8, 3, 4, 4]);
    const rm = torch.randn([1, 3, 1, 1]), rv = torch.rand([1, 3, 1, 1]).add(0.5);
    close(bnDeviation(x, rm, rv, 1e-5), bnDeviationOps(x.to('float64'), rm.to('float64'), rv.to('float64'), 1e-5), 'd2l buffers');
    const t = torch.randn([3, 8, 4, 4]).transpose(0, 1);
    assert.equal(bnMoments(t, rm, rv), null);
    close(bnDeviation(t, rm.reshape(3), rv.reshape(3), 1e-5), bnDeviationOps(t, rm.reshape(3), rv.reshape(3), 1e-5), 'non-contiguous');
    for (const bad of [NaN, Infinity]) {
      const data = x.toFloat32Array();
      data[5] = bad;
      const y = torch.tensor(data, x.shape);
      const got = bnDeviation(y, rm, rv, 1e-5), want = bnDeviationOps(y, rm, rv, 1e-5);
      for (const k of KEYS) assert.equal(Number.isFinite(got[k]), Number.isFinite(want[k]), `${bad}: ${k} ${got[k]} vs ${want[k]}`);
      assert.ok(!Number.isFinite(got.meanDev), `${bad} reaches mean dev`);
    }
  });
});
