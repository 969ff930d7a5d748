// The locator and the verdicts on real failures: real Fashion-MNIST, real libtorch, real runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as torch from '../src/torch/index.js';
import type { Linear, Conv2d, Sequential } from '../src/nn/index.js';
import { openStore } from '../src/store/index.js';
import { tmp, runTrainer } from './helpers.js';
const { HIST_BINS } = torch;

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const cli = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'passive' } });


test('(a) an absurd lr makes a real run go non-finite; stop keeps the state; replay reproduces the same layer and op', () => {
  const root = tmp();
  const t = cli(['train', '--model', 'lenet', '--activation', 'relu', '--lr', '1', '--init', 'normal:1', '--limit-train', '1000', '--limit-test', '100',
    '--batch-size', '50', '--epochs', '2', '--runs-dir', root, '--name', 'absurd', '--quiet']);
  assert.equal(t.status, 3, `train should exit 3 (diverged); stderr: ${t.stderr}`);
  assert.match(t.stdout, /non-finite at step \d+: (forward|backward|loss) pass/);
  const store = openStore(root);
  const [run] = store.listRuns();
  assert.equal(run.status, 'diverged');
  const report = run.report as { step: number; pass: string; layer: string | null; op: string };
  assert.ok(report.step >= 1 && ['forward', 'backward', 'loss'].includes(report.pass));
  assert.ok(report.op.length > 0);
  const dir = store.runDir(run.id);
  assert.ok(existsSync(join(dir, 'last-good.st')) && existsSync(join(dir, 'bad-batch.st')));
  assert.equal(store.getEvents(run.id, 'nan').length, 1);
  // The bad step's own histograms (from the locator's re-execution): the located layer's
  // output (forward) or gradient (backward) has elements in the NaN/Inf bin.
  const hs = store.histogramAt(run.id, report.step)!;
  assert.equal(hs.step, report.step, 'histograms recorded at the bad step itself');
  const li = store.getLayers(run.id).findIndex((l) => l.name === report.layer);
  if (report.pass === 'forward' && li >= 0) assert.ok(hs.act[li * torch.HIST_BINS + torch.HIST_NONFINITE] > 0, 'NaN/Inf bin of the located layer');
  if (report.pass === 'backward' && li > 0) assert.ok(Array.from(hs.grad).some((v, i) => i % torch.HIST_BINS === torch.HIST_NONFINITE && v > 0));
  store.close();
  const r = cli(['replay', run.id, '--runs-dir', root]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /reproduced: same pass, layer and op/);
});

test('(b) a NaN planted in one weight is located in that layer, forward pass', async () => {
  const { r } = await runTrainer({ model: 'lenet', lr: 0.9, maxSteps: 5 }, {
    beforeStep: (step, net) => {
      if (step === 3) torch.noGrad(() => ((net as Sequential).at(7) as Linear).weight.narrow(0, 5, 1).narrow(1, 2, 1).fill_(NaN));
    },
  });
  assert.equal(r.status, 'diverged');
  assert.equal(r.report?.step, 3);
  assert.equal(r.report?.pass, 'forward');
  assert.equal(r.report?.layer, '7');
  assert.equal(r.report?.alias, 'fc1');
  assert.equal(r.report?.tensor, 'weight');
  assert.equal(r.report?.op, 'aten::addmm', 'the op autograd records inside aten::linear');
  assert.equal(r.report?.counts.nan, 1);
});

test('(c) an Inf planted into one gradient is located in the backward pass of that layer', async () => {
  let planted = false;
  const { r } = await runTrainer({ model: 'lenet', lr: 0.9, maxSteps: 6 }, {
    beforeStep: (step, net) => {
      if (step === 4 && !planted) { planted = true; torch.registerGradFault(((net as Sequential).at(3) as Conv2d).weight, 10, Infinity); }
    },
  });
  assert.equal(r.status, 'diverged');
  assert.equal(r.report?.step, 4);
  assert.equal(r.report?.pass, 'backward');
  assert.equal(r.report?.layer, '3');
  assert.equal(r.report?.alias, 'conv2');
  assert.equal(r.report?.tensor, 'grad_weight');
  // The gradient left ConvolutionBackward0 finite; the planted hook made it Inf on its way to
  // the weight's accumulator, the first node to see it.
  assert.equal(r.report?.op, 'torch::autograd::AccumulateGrad');
  assert.match(String(r.report?.detail.cause), /hook on the parameter/);
  assert.equal(r.report?.counts.posInf, 1);
});

test('(d) a sigmoid AlexNet is classified vanishing, a ReLU+BN AlexNet healthy', async () => {
  const base = { model: 'alexnet' as const, resize: 96, batchSize: 32, maxSteps: 12, limitTrain: 400, lr: 0.01, histEvery: 5 };
  const sig = await runTrainer({ ...base, activation: 'sigmoid' });
  assert.equal(sig.r.verdict.run, 'vanishing', JSON.stringify(sig.r.verdict.numbers));
  assert.ok(sig.r.verdict.layers.find((l) => l.alias === 'conv1')?.verdict === 'vanishing');
  assert.match(sig.r.verdict.text.en, /at most 0.25/);
  assert.match(sig.r.verdict.text.zh, /0.25/);
  // The histograms show the same thing: recorded at steps 1, 6, 11 (--hist-every 5); every
  // activation of every layer counted once; conv1's gradients sit orders of magnitude left of
  // the last layer's.
  assert.deepEqual(sig.store.histogramSteps(sig.runId), [1, 6, 11]);
  const hs = sig.store.histogramAt(sig.runId, 12)!;
  const B = HIST_BINS;
  const row = (a: Float64Array, l: number) => Array.from(a.subarray(l * B, (l + 1) * B));
  const total = (r: number[]) => r.reduce((x, y) => x + y, 0);
  const L = hs.layers.length;
  assert.equal(total(row(hs.act, 0)), 32 * 96 * 22 * 22, 'conv1 output: 32 x 96 x 22 x 22 elements');
  assert.equal(total(row(hs.act, L - 1)), 32 * 10, 'logits');
  // Median over the non-zero magnitudes (max-pooling routes most gradient entries to exact 0).
  const medianBin = (r: number[]) => { const m = r.slice(0, torch.HIST_ZERO); let acc = 0; const half = total(m) / 2; return m.findIndex((c) => (acc += c) >= half); };
  const first = medianBin(row(hs.grad, 0)), last = medianBin(row(hs.grad, L - 1));
  // Two octaves per bin: 5 bins apart is a factor of 2^10 ~ 1000.
  assert.ok(last - first >= 5, `median |grad| bin: conv1 ${first}, last layer ${last}`);
  const bn = await runTrainer({ ...base, activation: 'relu', bn: 'builtin' });
  assert.equal(bn.r.verdict.run, 'healthy', JSON.stringify(bn.r.verdict.numbers));
  assert.equal(bn.r.status, 'finished');
});
