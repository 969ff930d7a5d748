// The engine's edges: integer arguments, native memory V8 can see, .grad ownership, and the
// CUDA generator (tested where a GPU is present; skipped, saying why, where not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as torch from '../src/torch/index.js';
import { native } from '../src/torch/native.js';
import { Sequential, Linear, Dropout, SGD } from '../src/nn/index.js';
import { saveCheckpoint, readCheckpoint } from '../src/train/checkpoint.js';
import { tmp } from './helpers.js';

test('integer arrays follow the integer rule: 1.5 is refused, not truncated', () => {
  torch.tidy(() => {
    const t = torch.ones([2]);
    assert.throws(() => native.reshape(t.handle, [2.5]), /expected an integer, got 2\.5/);
    assert.throws(() => native.sum(t.handle, [0.5], false), /expected an integer/);
    assert.throws(() => native.reshape(t.handle, [NaN]), /expected an integer/);
    assert.throws(() => native.narrow(t.handle, 0, 0.5, 1), /expected an integer/);
    assert.deepEqual(native.shape(native.reshape(t.handle, [2, 1])), [2, 1]);
  });
});

test('V8 is told the native memory tensors hold: leaked handles are collected under memory pressure', async () => {
  // 100 tensors of 8 MiB made outside any tidy and never disposed: only the GC, the safety net,
  // can free them. Their JS objects are tiny, so the GC runs only if V8 knows the 800 MiB behind
  // them (measured: 100 of 100 still alive without it, 12 with it).
  const base = torch.liveTensors();
  for (let i = 0; i < 100; i++) {
    torch.zeros([2, 1024, 1024]);
    if (i % 10 === 9) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setImmediate(r));
  const alive = torch.liveTensors() - base;
  assert.ok(alive < 60, `${alive} of 100 leaked 8 MiB tensors still alive: V8 did not see their memory`);
});

test('.grad: one handle per gradient, owned by the parameter (no allocation per read)', () => {
  const w = torch.ones([3]).requiresGrad_(true);
  torch.tidy(() => w.mul(w).sum().backward());
  const live = torch.liveTensors();
  const g = w.grad!;
  for (let i = 0; i < 100; i++) assert.equal(w.grad, g, 'the same handle on every read');
  assert.equal(torch.liveTensors(), live + 1, 'reading .grad 100 times made one handle');
  torch.tidy(() => { assert.equal(w.grad, g); }); // reading it in a scope does not hand it to the scope
  assert.equal(g.isDisposed, false);
  assert.deepEqual(g.toArray(), [2, 2, 2]);
  torch.tidy(() => w.mul(w).sum().backward()); // accumulates in place: still the same gradient
  assert.equal(w.grad, g);
  assert.deepEqual(g.toArray(), [4, 4, 4]);
  w.grad = null; // replaced: the old handle goes with it
  assert.equal(g.isDisposed, true);
  assert.equal(w.grad, null);
  torch.tidy(() => w.mul(w).sum().backward());
  const g2 = w.grad!;
  w.dispose(); // the parameter takes its gradient handle with it
  assert.equal(g2.isDisposed, true);
  assert.equal(torch.liveTensors(), live - 1);
});

const NO_CUDA = torch.cuda.isAvailable() ? false : 'CUDA is not available in this libtorch build (CPU-only); the CUDA generator is tested where a GPU is present';

test('without CUDA, asking for the CUDA generator is a clear error (not the CPU one)', { skip: torch.cuda.isAvailable() ? 'CUDA is available here' : false }, () => {
  assert.throws(() => torch.getRngState('cuda'), /CUDA is not available/);
  assert.deepEqual([...torch.captureRng('cpu').keys()], ['cpu']);
});

test('CUDA: the CUDA generator is saved and restored, so a re-executed step draws the same dropout masks', { skip: NO_CUDA }, () => {
  torch.manualSeed(0);
  const x = torch.ones([4096], { device: 'cuda' });
  const s = torch.captureRng('cuda');
  assert.deepEqual([...s.keys()], ['cpu', 'cuda']);
  const a = torch.F.dropout(x, 0.5).toFloat32Array();
  torch.restoreRng(s);
  const b = torch.F.dropout(x, 0.5).toFloat32Array();
  assert.deepEqual(a, b, 'same mask after restoring the CUDA generator');
  const c = torch.F.dropout(x, 0.5).toFloat32Array();
  assert.notDeepEqual(b, c);
  // Checkpoints carry it: restoring one puts the CUDA generator back too.
  const prev = torch.getDefaultDevice();
  torch.setDefaultDevice('cuda');
  try {
    const net = new Sequential(new Linear(4, 2), new Dropout(0.5));
    const path = join(tmp(), 'c.st');
    torch.restoreRng(s);
    saveCheckpoint(path, net, new SGD(net.parameters(), { lr: 0.1 }), { step: 0, next: { epoch: 0, batch: 0 }, lr: 0.1,
      epochSums: { loss: 0, correct: 0, n: 0, trainMs: 0 }, totalExamples: 0, totalTrainMs: 0, skips: 0, rollbacks: 0, reason: 'test' });
    const loaded = readCheckpoint(path);
    assert.deepEqual([...loaded.deviceRng.keys()], ['cuda']);
    torch.restoreRng(new Map([['cpu', loaded.rng], ...loaded.deviceRng]));
    assert.deepEqual(torch.F.dropout(x, 0.5).toFloat32Array(), a);
    net.dispose();
  } finally {
    torch.setDefaultDevice(prev);
  }
});
