// CI guard for phenomena 1 and 2 on whatever machine runs the suite: the claims of phenomenon-2
// that need only the first epoch, checked over 5 seeds with the experiment's own code
// (firstEpochChecks): at lr 10 every run goes non-finite in epoch 1 (phenomenon 1, d2l's net at
// a too-high lr); lowered to lr 1 the median first non-finite epoch moves past epoch 1, and the
// NaN comes later than at lr 10 for 5 of 5 seeds (one-sided sign test, p = 1/32). These are
// statements over seeds: a machine that rounds differently moves single steps, not the
// statistics. The full-budget claims (a seed blowing up mid-training, phenomenon 3's spread over
// seeds) need 300-step runs and are the experiments' own (`nanscope experiment phenomenon-2|3`).
// Cost: 5 runs of <= 25 steps at lr 1 plus 5 runs that stop within a few steps at lr 10, on 1 thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../src/store/index.js';
import { phenomenon2, firstEpochChecks } from '../src/experiments/phenomenon-2.js';
import { runExperiment } from '../src/experiments/run.js';
import { tmp } from './helpers.js';

test('phenomena 1-2 guard: over 5 seeds, lr 10 goes non-finite in epoch 1 and lr 1 moves the median past it (sign test 5 of 5)', async () => {
  const store = openStore(tmp());
  try {
    // One epoch (25 steps) of the cpu-scale config, on 1 thread (the experiment's cpu default).
    const run = await runExperiment(phenomenon2, { store, scale: 'cpu', seeds: [0, 1, 2, 3, 4], overrides: { maxSteps: 25 }, log: () => {} });
    assert.equal(run.results.length, 10);
    assert.ok(run.results.every((r) => r.stepsPerEpoch === 25), 'the cpu scale has 25-step epochs');
    assert.ok(run.results.every((r) => r.machine !== null), 'each run records its machine');
    const checks = firstEpochChecks(run.results, 'cpu');
    assert.equal(checks.length, 3);
    for (const c of checks) assert.ok(c.ok, c.text);
  } finally { store.close(); }
});
