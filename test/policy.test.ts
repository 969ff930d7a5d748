// --on-nan policies and resume-with-fix on real runs: a non-finite gradient never reaches the
// optimizer; skip and rollback act and are recorded; a fix is proven over the same steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as torch from '../src/torch/index.js';
import { openStore } from '../src/store/index.js';
import type { Conv2d, Sequential } from '../src/nn/index.js';
import { tmp, runTrainer, CLI } from './helpers.js';

test('skip: no update is ever applied with non-finite gradients; too many skips stop the run', async () => {
  const { r, store, runId } = await runTrainer({ model: 'lenet', lr: 0.9, maxSteps: 20, onNan: 'skip', maxSkips: 4, batchSize: 64 }, {
    beforeStep: (step, net) => {
      if (step === 3) torch.registerGradFault(((net as Sequential).at(0) as Conv2d).bias!, 2, NaN); // every later gradient is poisoned
    },
  });
  assert.equal(r.status, 'diverged');
  assert.equal(store.getEvents(runId, 'skip').length, 4);
  assert.equal(store.getEvents(runId, 'nan').length, 5);
});

test('skip leaves the weights untouched (checked on the live model)', async () => {
  let before: Float32Array[] = [];
  let after: Float32Array[] = [];
  await runTrainer({ model: 'lenet', lr: 0.9, maxSteps: 10, onNan: 'skip', maxSkips: 3, batchSize: 64 }, {
    beforeStep: (step, net) => {
      if (step === 2) { before = net.parameters().map((p) => p.toFloat32Array()); torch.registerGradFault(((net as Sequential).at(3) as Conv2d).weight, 0, Infinity); }
      if (step === 5) after = net.parameters().map((p) => p.toFloat32Array());
    },
  });
  assert.equal(before.length, after.length);
  before.forEach((b, i) => assert.ok(Buffer.from(b.buffer).equals(Buffer.from(after[i].buffer)), `param ${i} changed by a skipped step`));
});

test('rollback: restores the last checkpoint with a smaller lr, records it, and keeps the step log contiguous', async () => {
  const { r, store, runId } = await runTrainer({ model: 'lenet', activation: 'relu', init: 'normal:1', lr: 1, maxSteps: 30,
    onNan: 'rollback', checkpointEvery: 2, rollbackFactor: 0.5, limitTrain: 1000, batchSize: 50 });
  const rb = store.getEvents(runId, 'rollback');
  assert.ok(rb.length >= 1, 'at least one rollback');
  const lrs = rb.map((e) => (e.payload as { lr: number }).lr);
  // Each rollback lowers the configured lr once: 1 x 0.5^k, whichever checkpoint it returned to (a
  // checkpoint written after a rollback holds the lowered lr; compounding on it would give 0.125 for 0.25).
  assert.deepEqual(lrs, lrs.map((_, i) => 0.5 ** (i + 1)));
  const steps = store.getSteps(runId).map((s) => s.step);
  assert.deepEqual(steps, Array.from({ length: steps.length }, (_, i) => i + 1));
  assert.ok(['finished', 'diverged'].includes(r.status));
});

test('resume --fix: from the last good state (lr) and from the original seed (init), each reporting whether it held', () => {
  const root = tmp();
  const env = { ...process.env, OMP_WAIT_POLICY: 'passive' };
  const t = spawnSync(process.execPath, [...CLI, 'train', '--model', 'lenet', '--activation', 'relu', '--lr', '1', '--init', 'normal:1',
    '--limit-train', '1000', '--limit-test', '100', '--batch-size', '50', '--epochs', '1', '--out', `${root}/bad`, '--quiet'], { env, encoding: 'utf8' });
  assert.equal(t.status, 3, t.stderr);
  const fixA = spawnSync(process.execPath, [...CLI, 'resume', 'bad', '--runs-dir', root, '--fix', 'init=xavier', '--fix', 'lr=0.1', '--quiet'], { env, encoding: 'utf8' });
  assert.equal(fixA.status, 0, fixA.stdout + fixA.stderr);
  assert.match(fixA.stdout, /fix held: no NaN\/Inf through step 20 \(the original run broke at step 5\)/);
  const fixB = spawnSync(process.execPath, [...CLI, 'resume', 'bad', '--runs-dir', root, '--fix', 'lr=0.0001', '--lang', 'zh', '--quiet'], { env, encoding: 'utf8' });
  assert.ok(fixB.status === 0 || fixB.status === 3);
  assert.match(fixB.stdout, /修复(有效|无效)/);
  assert.match(fixB.stderr, /continuing from .*last-good\.st/);
  const s = openStore(root);
  const kids = s.listRuns({ parentId: 'bad' });
  assert.equal(kids.length, 2);
  s.close();
  const bad = spawnSync(process.execPath, [...CLI, 'resume', 'bad', '--runs-dir', root, '--fix', 'bn=maybe'], { env, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown --bn/);
});
