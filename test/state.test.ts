// The saved state is exactly the state before the bad step: last-good.st must equal, tensor for
// tensor and bit for bit, the checkpoint an identical run saves when it stops one step earlier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cpus } from 'node:os';
import * as torch from '../src/torch/index.js';
import type { Conv2d, Sequential } from '../src/nn/index.js';
import type { TrainConfig } from '../src/train/config.js';
import { outcomeTable, type GridCell } from '../src/cli/sweep.js';
import { runTrainer, loadSt } from './helpers.js';

const BAD_STEP = 5;

function assertSameTensors(a: Map<string, torch.Tensor>, b: Map<string, torch.Tensor>): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, t] of a) {
    const u = b.get(k)!;
    assert.equal(t.dtype, u.dtype, k);
    assert.deepEqual(t.shape, u.shape, k);
    assert.ok(Buffer.from(t.data().buffer).equals(Buffer.from(u.data().buffer)), `${k} differs from the state one step earlier`);
  }
}

for (const [bn, momentum] of [['builtin', 0], ['scratch', 0.9]] as const) {
  test(`last-good.st is bitwise the state before the bad step (BN ${bn}, momentum ${momentum})`, async () => {
    const c: Partial<TrainConfig> = { model: 'lenet', activation: 'relu', bn, momentum, lr: 0.1, batchSize: 64, threads: 1, maxSteps: 8, histEvery: 2 };
    // Run A: gradients poisoned from step BAD_STEP on (the forward, and the BN statistics it updates, are real).
    const a = await runTrainer(c, {
      beforeStep: (step, net) => { if (step === BAD_STEP) torch.registerGradFault(((net as Sequential).at(0) as Conv2d).bias!, 0, NaN); },
    });
    assert.equal(a.r.status, 'diverged');
    assert.equal(a.r.report?.step, BAD_STEP);
    // Run B: identical, stopped after step BAD_STEP - 1 (its max-steps checkpoint).
    const b = await runTrainer({ ...c, maxSteps: BAD_STEP - 1 });
    assert.equal(b.r.status, 'finished');
    const good = loadSt(join(a.store.runDir(a.runId), 'last-good.st'));
    const prev = loadSt(join(b.store.runDir(b.runId), 'checkpoint.st'));
    try {
      assert.ok([...good.keys()].some((k) => /running_mean|moving_mean/.test(k)), 'the checkpoint holds BN statistics');
      if (momentum) assert.ok([...good.keys()].some((k) => k.startsWith('optim.momentum_buffer')), 'and momentum buffers');
      assertSameTensors(good, prev);
    } finally {
      for (const t of [...good.values(), ...prev.values()]) t.dispose();
      a.store.close();
      b.store.close();
    }
  });
}

test('update/weight ratio is the update actually applied (after clipping, with momentum), not lr * |grad|', async () => {
  const w: Float32Array[] = [];
  const { store, runId } = await runTrainer({ model: 'lenet', activation: 'relu', lr: 0.5, momentum: 0.9, clip: 0.05, batchSize: 64, threads: 1, maxSteps: 4 }, {
    beforeStep: (_step, net) => { w.push(((net as Sequential).at(0) as Conv2d).weight.toFloat32Array()); },
  });
  try {
    const p = store.getProbes(runId);
    const col = p.fields.indexOf('update_ratio');
    for (let s = 0; s < 3; s++) {
      let d = 0, n = 0;
      w[s].forEach((x, i) => { d += (w[s + 1][i] - x) ** 2; n += x * x; });
      const want = Math.sqrt(d) / Math.sqrt(n);
      const got = p.values[s][col]; // layer 0 (conv1): the first row
      assert.ok(Math.abs(got - want) <= 1e-3 * want, `step ${s + 1}: stored ratio ${got}, applied ${want}`);
    }
  } finally {
    store.close();
  }
});

test('input statistics are stored only on the steps where they were measured', async () => {
  const { store, runId } = await runTrainer({ model: 'lenet', lr: 0.1, batchSize: 64, threads: 1, maxSteps: 7, probeEvery: 3 });
  try {
    const steps = store.getSteps(runId);
    assert.equal(steps.length, 7);
    for (const s of steps) {
      const probed = (s.step - 1) % 3 === 0;
      for (const v of [s.inputMin, s.inputMax, s.inputMean, s.inputStd]) {
        if (probed) assert.ok(typeof v === 'number' && Number.isFinite(v), `step ${s.step} measured its input`);
        else assert.equal(v, null, `step ${s.step} was not probed: no input statistics of its own`);
      }
    }
  } finally {
    store.close();
  }
});

test('a rollback that recovered is an event, not a divergence: first_nan_step is cleared and the sweep table says no', async () => {
  let planted = false;
  const { r, store, runId } = await runTrainer({ model: 'lenet', lr: 0.1, batchSize: 64, threads: 1, maxSteps: 8, onNan: 'rollback', checkpointEvery: 2 }, {
    afterBackward: (step, net) => {
      if (step !== 5 || planted) return;
      planted = true; // one bad gradient, once: the rolled-back rerun of step 5 is clean
      const g = ((net as Sequential).at(0) as Conv2d).bias!.grad!;
      g.fill_(NaN);
      g.dispose();
    },
  });
  try {
    assert.equal(r.status, 'finished');
    const rb = store.getEvents(runId, 'rollback');
    assert.equal(rb.length, 1);
    assert.equal((rb[0].payload as { toStep: number }).toStep, 4);
    assert.equal(store.getEvents(runId, 'nan').length, 1, 'the bad step is recorded as an event');
    const run = store.getRun(runId)!;
    assert.equal(run.firstNanStep, null);
    assert.equal(run.firstNanEpoch, null);
    const table = outcomeTable([{ key: 'c', args: [] } satisfies GridCell], new Map([['c', run]]));
    assert.match(table.split('\n')[2], /^c\s+finished\s+no\s+-/);
  } finally {
    store.close();
  }
});

test('a run records the machine it trained on: CPU model, the ISA ATen dispatched to, its threads, libtorch', async () => {
  const { store, runId } = await runTrainer({ maxSteps: 2, threads: 1 });
  try {
    const m = store.getRun(runId)!.machine;
    assert.ok(m, 'machine recorded');
    assert.equal(m.threads, 1, 'the thread count the run used, not the machine\'s cores');
    assert.equal(m.cpu, cpus()[0].model.trim());
    assert.equal(m.torch, torch.version());
    // ATen's dispatch level as show_config states it (AVX2 on this AVX-512 EPYC: libtorch 1.13 does not pick AVX512 by default).
    const said = /CPU capability usage:\s*(\S+)/.exec(torch.configShow())![1];
    assert.equal(m.atenIsa, said === 'AVX512' ? 'AVX-512' : said);
    assert.match(m.cpuIsa, /^(AVX-512|AVX2|AVX|SSE4\.2|\w+)$/);
  } finally { store.close(); }
});

test('a large state (AlexNet, 187 MB) is streamed to its checkpoint before the next step: no copy, the file holds the weights the next step starts from', async () => {
  const { loadFashionMnist } = await import('../src/data/index.js');
  const { openStore } = await import('../src/store/index.js');
  const { Trainer } = await import('../src/train/trainer.js');
  const { defaultConfig, validate } = await import('../src/train/config.js');
  const { tmp } = await import('./helpers.js');
  const data = await loadFashionMnist({ limitTrain: 32, limitTest: 16 });
  const store = openStore(tmp());
  const config = validate({ ...defaultConfig('alexnet'), resize: 65, batchSize: 8, threads: 1, maxSteps: 2, checkpointEvery: 1, evaluate: false, histEvery: 0 });
  const run = store.createRun({ name: 't', config });
  let compared = 0;
  const trainer = new Trainer(config, {
    store, runId: run.id, data, silent: true,
    beforeStep: (step, net) => {
      if (step !== 2) return;
      // Step 1's periodic checkpoint must already be complete on disk, and equal the weights step 2 starts from.
      const saved = loadSt(join(store.runDir(run.id), 'checkpoint.st'));
      try {
        const model = new Map([...saved].filter(([k]) => k.startsWith('model.')).map(([k, t]) => [k.slice(6), t]));
        assertSameTensors(model, net.stateDict());
        compared = model.size;
      } finally {
        for (const t of saved.values()) t.dispose();
      }
    },
  });
  try {
    const r = await trainer.run();
    assert.equal(r.status, 'finished');
    assert.ok(compared >= 16, `compared ${compared} tensors`);
  } finally {
    trainer.dispose();
    store.close();
  }
});
