// Memory stays flat over thousands of real training steps: native tensors (live count) and
// process RSS less the JS heap, with probes and histograms on, through the real trainer and store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import { runTrainer } from './helpers.js';

test('2,000 LeNet steps: live tensors constant, RSS growth under 24 MB', async (ctx) => {
  const rss: number[] = [];
  const live: number[] = [];
  const { r } = await runTrainer({ model: 'lenet', lr: 0.3, batchSize: 16, limitTrain: 1600, epochs: 20, maxSteps: 2000, histEvery: 10 }, {
    afterBackward: (step) => {
      // RSS less the V8 heap: the JS heap grows and shrinks with GC timing (measured swings of
      // 10-18 MB over a few hundred steps), which says nothing about native memory.
      if (step % 100 === 0) { const m = process.memoryUsage(); rss.push(m.rss - m.heapTotal); live.push(torch.liveTensors()); }
    },
  });
  ctx.diagnostic(`RSS - JS heap, MB every 100 steps: ${rss.map((x) => (x / 2 ** 20).toFixed(0)).join(',')}`);
  assert.equal(r.status, 'finished');
  assert.equal(r.steps, 2000);
  // After warm-up (allocator caches, JIT), nothing may grow per step.
  assert.equal(new Set(live.slice(2)).size, 1, `live tensors vary: ${live}`);
  const growth = (Math.max(...rss.slice(3)) - rss[3]) / 2 ** 20;
  assert.ok(growth < 24, `RSS grew ${growth.toFixed(1)} MB between step 400 and 2000: ${rss.map((x) => (x / 2 ** 20).toFixed(0))}`);
});
