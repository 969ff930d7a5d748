// The epoch's fixed costs taken off the step (issue 15): buffered store writes that all land
// whichever way a run ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import type { Conv2d, Sequential } from '../src/nn/index.js';
import { openStore } from '../src/store/index.js';
import { loadFashionMnist } from '../src/data/index.js';
import { Trainer, FLUSH_STEPS } from '../src/train/trainer.js';
import { defaultConfig, validate, type TrainConfig } from '../src/train/config.js';
import { runTrainer, tmp } from './helpers.js';

const LENET: Partial<TrainConfig> = { model: 'lenet', activation: 'relu', batchSize: 32, threads: 1, maxSteps: 12 };

/** Steps 1..n each stored once, with a probe row each (probeEvery 1). */
function assertAllSteps(store: ReturnType<typeof openStore>, runId: string, n: number): void {
  assert.ok(n < FLUSH_STEPS, 'fewer steps than one batch of writes: only the final flush can have written them');
  assert.deepEqual(store.getSteps(runId).map((r) => r.step), Array.from({ length: n }, (_, i) => i + 1));
  assert.deepEqual([...store.getProbes(runId).steps], Array.from({ length: n }, (_, i) => i + 1));
}

test('buffered steps all land when the run is stopped (SIGINT)', async () => {
  const stop = { stop: false };
  const { r, store, runId } = await runTrainer(LENET, { stopSignal: stop, beforeStep: (step) => { if (step === 6) stop.stop = true; } });
  try {
    assert.equal(r.status, 'interrupted');
    assertAllSteps(store, runId, 6);
  } finally { store.close(); }
});

test('buffered steps all land when a step goes NaN (--on-nan stop)', async () => {
  const { r, store, runId } = await runTrainer(LENET, {
    beforeStep: (step, net) => { if (step === 5) torch.registerGradFault(((net as Sequential).at(0) as Conv2d).bias!, 0, NaN); },
  });
  try {
    assert.equal(r.status, 'diverged');
    assert.deepEqual(store.getSteps(runId).map((s) => [s.step, s.nonfinite]), [[1, false], [2, false], [3, false], [4, false], [5, true]]);
  } finally { store.close(); }
});

test('buffered steps all land when an exception ends the run', async () => {
  const data = await loadFashionMnist({ limitTrain: 512, limitTest: 100 });
  const store = openStore(tmp());
  const config = validate({ ...defaultConfig('lenet'), ...LENET, evaluate: false, checkpointEvery: 0 });
  const run = store.createRun({ name: 't', config });
  const trainer = new Trainer(config, { store, runId: run.id, data, silent: true, beforeStep: (step) => { if (step === 8) throw new Error('planted failure'); } });
  try {
    await assert.rejects(trainer.run(), /planted failure/);
    assertAllSteps(store, run.id, 7);
  } finally {
    trainer.dispose();
    store.close();
  }
});

test('a finished run has every step stored', async () => {
  const { r, store, runId } = await runTrainer(LENET);
  try {
    assert.equal(r.status, 'finished');
    assertAllSteps(store, runId, 12);
  } finally { store.close(); }
});
