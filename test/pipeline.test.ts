// The epoch's fixed costs taken off the step (issue 15): buffered store writes that all land
// whichever way a run ends; checkpoints written by a background thread, bitwise as before;
// images resized ahead by a prefetch thread, the batches byte for byte the synchronous ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import type { Conv2d, Sequential } from '../src/nn/index.js';
import { openStore } from '../src/store/index.js';
import { loadFashionMnist, DataLoader, resizeCacheFor, type Split, type Batch } from '../src/data/index.js';
import { Trainer, FLUSH_STEPS } from '../src/train/trainer.js';
import { defaultConfig, validate, type TrainConfig } from '../src/train/config.js';
import { runTrainer, tmp, loadSt } from './helpers.js';
import { readFileSync, existsSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SGD, crossEntropyLoss } from '../src/nn/index.js';
import { lenet } from '../src/models/index.js';
import { saveCheckpoint, readCheckpointMeta, CheckpointWriter, type CheckpointMeta } from '../src/train/checkpoint.js';

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

const META: CheckpointMeta = { step: 2, next: { epoch: 0, batch: 2 }, lr: 0.1, epochSums: { loss: 4.5, correct: 30, n: 128, trainMs: 12 },
  totalExamples: 128, totalTrainMs: 12, skips: 0, rollbacks: 0, reason: 'periodic' };

/** LeNet with momentum buffers, after two real SGD steps on Fashion-MNIST. */
async function trainedLenet(): Promise<{ net: ReturnType<typeof lenet>; opt: SGD }> {
  torch.manualSeed(3);
  const net = lenet();
  const opt = new SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
  const data = await loadFashionMnist({ limitTrain: 128, limitTest: 10 });
  for (let s = 0; s < 2; s++) {
    torch.tidy(() => {
      const X = torch.tensor(data.train.images.subarray(s * 64 * 784, (s + 1) * 64 * 784), [64, 1, 28, 28]).float().div_(255);
      const y = torch.tensor(data.train.labels.subarray(s * 64, (s + 1) * 64), [64], { dtype: 'int64' });
      opt.zeroGrad();
      crossEntropyLoss(net.call(X), y).backward();
      opt.step();
    });
  }
  return { net, opt };
}

test('a background checkpoint is bitwise the file saveCheckpoint writes, taken at the call even if the weights change before it is written', async () => {
  const { net, opt } = await trainedLenet();
  const dir = tmp();
  const rng = torch.captureRng('cpu');
  const writer = new CheckpointWriter();
  try {
    saveCheckpoint(join(dir, 'sync.st'), net, opt, META, rng);
    const written = writer.save(join(dir, 'bg.st'), net, opt, META, rng);
    torch.noGrad(() => { for (const p of net.parameters()) p.mul_(-3); }); // the next step, before the write is done
    await written;
    const a = readFileSync(join(dir, 'sync.st')), b = readFileSync(join(dir, 'bg.st'));
    assert.ok(a.length > 100_000, 'a real checkpoint (LeNet weights and momentum)');
    assert.ok(a.equals(b), 'the background file is byte for byte the synchronous one');
    assert.deepEqual(readCheckpointMeta(join(dir, 'bg.st')), META);
    const t = loadSt(join(dir, 'bg.st'));
    try {
      assert.ok([...t.keys()].some((k) => k.startsWith('optim.momentum_buffer')));
    } finally { for (const x of t.values()) x.dispose(); }
    assert.deepEqual(readdirSync(dir).sort(), ['bg.st', 'sync.st'], 'no temp file left');
  } finally {
    await writer.close();
    for (const t of rng.values()) t.dispose();
    opt.dispose();
    net.dispose();
  }
});

test('a background checkpoint that cannot be written rejects, and the previous file stays', async () => {
  const { net, opt } = await trainedLenet();
  const dir = tmp();
  const writer = new CheckpointWriter();
  try {
    writeFileSync(join(dir, 'not-a-dir'), 'x');
    await assert.rejects(writer.save(join(dir, 'not-a-dir', 'c.st'), net, opt, META), /checkpoint write failed/);
    // A good write, then a failed one over the same name (a directory in the way of the rename).
    await writer.save(join(dir, 'c.st'), net, opt, META);
    const before = readFileSync(join(dir, 'c.st'));
    const { mkdirSync, rmSync, renameSync } = await import('node:fs');
    renameSync(join(dir, 'c.st'), join(dir, 'keep.st'));
    mkdirSync(join(dir, 'c.st', 'x'), { recursive: true });
    await assert.rejects(writer.save(join(dir, 'c.st'), net, opt, { ...META, step: 9 }), /checkpoint write failed/);
    assert.ok(existsSync(join(dir, 'c.st', 'x')), 'the target is untouched');
    rmSync(join(dir, 'c.st'), { recursive: true });
    assert.ok(readFileSync(join(dir, 'keep.st')).equals(before));
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
  } finally {
    await writer.close();
    opt.dispose();
    net.dispose();
  }
});

test('the trainer\'s epoch-end and periodic checkpoints are written in the background, complete and recorded when run() returns', async () => {
  // 3 batches per epoch, 2 epochs, a periodic checkpoint every 2 steps: writes at steps 2, 3, 4 and 6.
  const { r, store, runId } = await runTrainer({ ...LENET, batchSize: 64, limitTrain: 192, epochs: 2, maxSteps: null, checkpointEvery: 2 });
  try {
    assert.equal(r.status, 'finished');
    const path = join(store.runDir(runId), 'checkpoint.st');
    const meta = readCheckpointMeta(path);
    assert.equal(meta.step, 6);
    assert.deepEqual(meta.next, { epoch: 2, batch: 0 });
    assert.equal(meta.reason, 'epoch-end');
    const events = store.getEvents(runId).filter((e) => e.kind === 'checkpoint').map((e) => [e.step, (e.payload as { reason: string }).reason]);
    assert.deepEqual(events, [[2, 'periodic'], [3, 'epoch-end'], [4, 'periodic'], [6, 'periodic'], [6, 'epoch-end']]);
    const saved = loadSt(path); // every checksum verified
    try {
      assert.ok([...saved.keys()].some((k) => k.startsWith('model.')));
    } finally { for (const t of saved.values()) t.dispose(); }
    assert.deepEqual(readdirSync(store.runDir(runId)).filter((f) => f.endsWith('.tmp')), []);
  } finally { store.close(); }
});

/** Waits (no time limit of its own: the test runner's applies) until cond() holds. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 20));
}

const sameBatch = (a: Batch, b: Batch, what: string): void => {
  assert.deepEqual([a.epoch, a.index, a.size], [b.epoch, b.index, b.size], what);
  assert.ok(Buffer.from(a.pixels).equals(Buffer.from(b.pixels)), `${what}: pixels`);
  assert.deepEqual(a.labels, b.labels, `${what}: labels`);
  assert.deepEqual(a.indices, b.indices, `${what}: indices`);
};

/** A split of its own (same images): a resize cache is per split, so each copy starts empty. */
const copy = (s: Split): Split => ({ images: s.images.slice(), labels: s.labels.slice(), n: s.n });

test('prefetch: the thread resizes the next batches ahead, and every batch is byte for byte the synchronous one, in the same order', async () => {
  const data = await loadFashionMnist({ limitTrain: 600, limitTest: 10 });
  // Two copies of the split: two caches, one filled by the training thread alone, one with the prefetch thread.
  const plain = copy(data.train), pre = copy(data.train);
  const opts = { batchSize: 50, shuffle: true, seed: 7, resize: 96 };
  const a = new DataLoader(plain, opts);
  const b = new DataLoader(pre, { ...opts, prefetch: 3 });
  const cache = resizeCacheFor(pre, 96)!;
  try {
    assert.equal(cache.resized, 0);
    sameBatch(b.batch(0, 0), a.batch(0, 0), 'epoch 1 batch 0');
    // Batch 0 was resized here; batches 1-3 are the thread's. Wait for them before asking for them.
    await until(() => cache.resized >= 4 * 50);
    assert.equal(cache.resized, 4 * 50, 'the thread stays within 3 batches ahead');
    for (let e = 0; e < 2; e++) {
      for (let i = e === 0 ? 1 : 0; i < a.numBatches; i++) sameBatch(b.batch(e, i), a.batch(e, i), `epoch ${e + 1} batch ${i}`);
    }
    assert.equal(cache.resized, 600);
    assert.ok(Buffer.from(cache.pixels).equals(Buffer.from(resizeCacheFor(plain, 96)!.pixels)), 'the two caches hold the same bytes');
  } finally {
    b.close();
  }
});

test('prefetch: a resumed position and a random access get the same batches as the synchronous path', async () => {
  const data = await loadFashionMnist({ limitTrain: 300, limitTest: 10 });
  const opts = { batchSize: 32, shuffle: true, seed: 3, resize: 64 };
  const a = new DataLoader(copy(data.train), opts);
  const b = new DataLoader(copy(data.train), { ...opts, prefetch: 2 });
  try {
    for (const [e, i] of [[2, 5], [2, 6], [0, 9], [1, 0], [2, 7], [2, 7], [0, 0]]) sameBatch(b.batch(e, i), a.batch(e, i), `epoch ${e} batch ${i}`);
    assert.throws(() => new DataLoader(data.train, { ...opts, prefetch: -1 }), /prefetch must be a non-negative integer/);
  } finally {
    b.close();
  }
});

test('streamed resize (a split past the cache budget): no cache is kept, the thread resizes batches ahead into its slots, every batch is byte for byte the cached one', async () => {
  const data = await loadFashionMnist({ limitTrain: 400, limitTest: 10 });
  const cached = copy(data.train), streamed = copy(data.train);
  const opts = { batchSize: 48, shuffle: true, seed: 11, resize: 80 };
  const a = new DataLoader(cached, opts);
  // 400 x 80^2 bytes = 2.4 MB: past a 2 MB budget, so this split is streamed.
  const b = new DataLoader(streamed, { ...opts, prefetch: 2, resizeCacheMB: 2 });
  const sync = new DataLoader(copy(data.train), { ...opts, resizeCacheMB: 0 });
  assert.equal(a.cachesResized, true);
  assert.equal(b.cachesResized, false);
  assert.equal(resizeCacheFor(streamed, 80, 2), null, 'nothing kept for the streamed split');
  const stream = (b as unknown as { stream: { workerResized: number } }).stream;
  try {
    sameBatch(b.batch(0, 0), a.batch(0, 0), 'epoch 1 batch 0');
    // Batches 1 and 2 were queued for the thread; wait until it has resized them, then take them.
    await until(() => stream.workerResized >= 2 * 48);
    assert.equal(stream.workerResized, 2 * 48, 'the thread stays within 2 batches ahead');
    for (let e = 0; e < 2; e++) {
      for (let i = e === 0 ? 1 : 0; i < a.numBatches; i++) sameBatch(b.batch(e, i), a.batch(e, i), `epoch ${e + 1} batch ${i}`);
    }
    // A resumed position, a repeat and a jump back: whatever is or is not in the slots.
    for (const [e, i] of [[3, 4], [3, 4], [0, 2], [3, 8], [1, 0]]) sameBatch(b.batch(e, i), a.batch(e, i), `random access epoch ${e} batch ${i}`);
    // Closed mid-epoch, then used again: a new thread with new slots.
    b.close();
    for (const i of [1, 2, 3]) sameBatch(b.batch(4, i), a.batch(4, i), `after close, batch ${i}`);
    // Without a prefetch thread the loader resizes each batch itself: the same bytes again.
    for (const i of [0, 5, 8]) sameBatch(sync.batch(2, i), a.batch(2, i), `no prefetch, batch ${i}`);
    assert.throws(() => new DataLoader(streamed, { ...opts, resizeCacheMB: -1 }), /resizeCacheMB must be a non-negative number/);
  } finally {
    b.close();
  }
});
