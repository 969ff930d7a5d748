// The Tensor API over the real addon and libtorch: values, autograd, errors, memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import { tapStats } from '../src/torch/stats.js';
import { F } from '../src/torch/index.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

test('creation, elementwise and reductions give libtorch values', () => {
  torch.tidy(() => {
    const x = torch.tensor([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(x.shape, [2, 3]);
    assert.equal(x.dtype, 'float32');
    assert.deepEqual(x.add(1).mul(2).toArray(), [4, 6, 8, 10, 12, 14]);
    assert.deepEqual(x.sum(1).toArray(), [6, 15]);
    assert.deepEqual(x.mean(0, true).shape, [1, 3]);
    assert.ok(Math.abs(x.var(undefined, { unbiased: false }).item() - 35 / 12) < 1e-6);
    assert.equal(x.amax().item(), 6);
    assert.deepEqual(x.argmax(1).toArray(), [2, 2]);
    assert.ok(Math.abs(x.norm().item() - Math.sqrt(91)) < 1e-5);
    assert.deepEqual(x.matmul(x.T).toArray(), [14, 32, 32, 77]);
    assert.deepEqual(torch.zeros([2, 2], { dtype: 'int64' }).dtype, 'int64');
    assert.deepEqual(torch.arange(4).toArray(), [0, 1, 2, 3]);
    const y = torch.tensor(new Float32Array([1, NaN, Infinity, -Infinity]));
    assert.deepEqual(y.isfinite().toArray(), [1, 0, 0, 0]);
    assert.equal(y.isnan().any().item(), 1);
    const s = torch.stats(y);
    assert.deepEqual([s.nan, s.posInf, s.negInf, s.sum], [1, 1, 1, 1]);
  });
});

test('autograd: backward fills .grad; noGrad records nothing', () => {
  torch.tidy(() => {
    const w = torch.tensor([1, 2, 3], undefined, { requiresGrad: true });
    const loss = w.mul(w).sum();
    assert.equal(loss.gradFn, 'SumBackward0');
    loss.backward();
    assert.deepEqual(w.grad?.toArray(), [2, 4, 6]);
    const z = torch.noGrad(() => w.mul(2));
    assert.equal(z.requiresGrad, false);
    w.grad = null;
    assert.equal(w.grad, null);
  });
});

test('seeding reproduces random draws; RNG state round-trips', () => {
  torch.tidy(() => {
    torch.manualSeed(7);
    const a = torch.randn([5]).toArray();
    const st = torch.getRngState();
    const b = torch.randn([5]).toArray();
    torch.manualSeed(7);
    assert.deepEqual(torch.randn([5]).toArray(), a);
    torch.setRngState(st);
    assert.deepEqual(torch.randn([5]).toArray(), b);
  });
});

test('bad shapes and dtypes raise JS errors with libtorch messages, never abort', () => {
  torch.tidy(() => {
    const a = torch.ones([2, 3]);
    assert.throws(() => a.matmul(a), /cannot be multiplied/);
    assert.throws(() => a.view(7), /invalid for input of size 6/);
    assert.throws(() => F.conv2d(a, torch.ones([1, 1, 3, 3])), /Expected|expected|input/);
    assert.throws(() => F.crossEntropy(torch.ones([2, 3]), torch.ones([2])), /Long|dtype|expected/i);
    assert.throws(() => torch.tensor(new Float32Array(5), [2, 3]), /do not fill/);
    assert.throws(() => torch.zeros([2], { dtype: 'complex' as torch.DType }), /unknown dtype/);
    assert.throws(() => a.to('cuda:9'), /CUDA|cuda|device/);
  });
});

test('use after dispose is a JS error', () => {
  const t = torch.ones([3]);
  t.dispose();
  assert.throws(() => t.sum(), /used after dispose/);
  t.dispose(); // idempotent
});

test('tidy frees every temporary: no native growth over many steps', () => {
  const w = torch.keep(torch.randn([64, 64], { requiresGrad: true }));
  const before = torch.liveTensors();
  for (let i = 0; i < 2000; i++) {
    torch.tidy(() => {
      const loss = torch.randn([8, 64]).matmul(w).relu().square().mean();
      loss.backward();
      torch.noGrad(() => w.sub_(w.grad!, 1e-3));
      w.grad = null;
    });
  }
  assert.equal(torch.liveTensors(), before);
  w.dispose();
  assert.equal(torch.liveTensors(), before - 1);
});

test('tidy returns its result to the enclosing scope and disposes on throw', () => {
  const before = torch.liveTensors();
  const r = torch.tidy(() => { torch.ones([2]); return torch.zeros([2]); });
  assert.equal(torch.liveTensors(), before + 1);
  r.dispose();
  assert.throws(() => torch.tidy(() => { torch.ones([2]); throw new Error('boom'); }), /boom/);
  assert.equal(torch.liveTensors(), before);
});

test('probe stats kernel: fast and exact paths agree with tensor reductions on large tensors', () => {
  torch.tidy(() => {
    torch.manualSeed(1);
    const x = torch.randn([3, 1000, 333]).mul(3).relu();
    const s = torch.stats(x);
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b));
    assert.equal(s.numel, x.numel());
    assert.ok(close(s.sum, x.sum().item()), `sum ${s.sum}`);
    assert.ok(close(s.sumsq, x.square().sum().item()), `sumsq ${s.sumsq}`);
    assert.equal(s.max, x.amax().item());
    assert.equal(s.min, 0);
    assert.equal(s.maxAbs, x.abs().amax().item());
    assert.equal(s.zeros, x.eq(0).sum().item());
    assert.equal(s.nan + s.posInf + s.negInf, 0);
    // Plant non-finite values: the exact pass counts them and keeps the finite statistics.
    const flat = x.view(-1);
    flat.narrow(0, 12345, 1).fill_(Infinity);
    flat.narrow(0, 777, 2).fill_(NaN);
    flat.narrow(0, 998_000, 1).fill_(-Infinity);
    const t = torch.stats(x);
    assert.deepEqual([t.nan, t.posInf, t.negInf], [2, 1, 1]);
    assert.equal(t.max, torch.where(x.isfinite(), x, torch.zeros([])).amax().item());
  });
});

test('probe stats kernel: the AVX2 build and the portable build give the same counts and extremes, and sums within rounding', () => {
  const dump = (env: NodeJS.ProcessEnv) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=nanscope-source', join(import.meta.dirname, 'stats-kernels.ts')],
      { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as torch.TensorStats[];
  };
  const fast = dump({});
  const portable = dump({ NANSCOPE_STATS_PORTABLE: '1' });
  assert.equal(fast.length, portable.length);
  fast.forEach((a, i) => {
    const b = portable[i];
    for (const k of ['numel', 'min', 'max', 'maxAbs', 'nan', 'posInf', 'negInf', 'zeros', 'sat'] as const) assert.equal(a[k], b[k], `tensor ${i}: ${k}`);
    for (const k of ['sum', 'sumsq'] as const) assert.ok(Math.abs(a[k] - b[k]) <= 1e-5 * Math.max(1, Math.abs(b[k])), `tensor ${i}: ${k} ${a[k]} vs ${b[k]}`);
  });
  // The set is a real mix: dead ReLU outputs and saturated sigmoids are counted on both builds.
  assert.ok(fast.some((s) => s.zeros > 1000) && fast.some((s) => s.sat > 1000) && fast.some((s) => s.nan === 1));
});

test('magnitude histogram kernel: every element in its exponent bin, across float32\'s range, on the parallel path', () => {
  torch.tidy(() => {
    const { histogram, histBinOf, histBinLower, HIST_BINS, HIST_ZERO, HIST_NONFINITE } = torch;
    // Edges: 1 and 2^-127.. sit exactly on bin boundaries; subnormals go to bin 0.
    const special = [0, -0, 1, -1, 1.999, 2, 7.99, 8, 1e-45, 1e-38, 3.4e38, NaN, Infinity, -Infinity];
    const hs = histogram(torch.tensor(Float32Array.from(special), [special.length]));
    const want = new Float64Array(HIST_BINS);
    for (const v of special) want[histBinOf(Math.abs(v))]++;
    assert.deepEqual(Array.from(hs), Array.from(want));
    assert.deepEqual([histBinOf(1), histBinOf(1.999), histBinOf(2), histBinOf(8), histBinOf(1e-45)], [63, 63, 64, 65, 0]);
    assert.deepEqual([hs[HIST_ZERO], hs[HIST_NONFINITE]], [2, 3]);
    assert.equal(histBinLower(63), 0.5);
    // 2.4M values spread over 60 decades, with planted zeros and non-finite values: the
    // kernel's parallel chunks must add up to a plain per-element count.
    torch.manualSeed(3);
    const x = torch.randn([2_400_000]).mul(30).exp().mul(torch.rand([2_400_000]).sub(0.5)).mul(1e-10);
    const flat = x.view(-1);
    flat.narrow(0, 5, 1000).fill_(0);
    flat.narrow(0, 2_000_000, 7).fill_(NaN);
    const data = x.toFloat32Array();
    const ref = new Float64Array(HIST_BINS);
    for (const v of data) ref[histBinOf(Math.abs(v))]++;
    const got = histogram(x);
    assert.deepEqual(Array.from(got), Array.from(ref));
    assert.ok(got.filter((c) => c > 0).length > 40, 'the values cover many bins');
  });
});

test('div_ by a number is a true division, bitwise as PyTorch (x * (1/255) differs for 126 of the 256 byte values)', () => {
  torch.tidy(() => {
    const u = torch.tensor(Uint8Array.from({ length: 256 }, (_, i) => i), [256], { dtype: 'uint8' });
    const inPlace = u.float().div_(255);
    const bits = (t: torch.Tensor) => Buffer.from(t.data().buffer).toString('hex');
    assert.equal(bits(inPlace), bits(u.float().div(255)));
    // Float32 of i/255 computed in float32 arithmetic (what ToTensor's division gives).
    const want = Float32Array.from({ length: 256 }, (_, i) => Math.fround(Math.fround(i) / 255));
    assert.equal(bits(inPlace), Buffer.from(want.buffer).toString('hex'));
  });
});

test('tap stats reuse a reduction only for the same unwritten memory: views share it, an in-place write, a new tensor or another band does not', () => {
  torch.tidy(() => {
    torch.manualSeed(2);
    const x = torch.randn([64, 100]);
    const a = tapStats(x);
    assert.deepEqual(tapStats(x.view(-1)), a, 'a view over the same memory gets the same numbers');
    x.mul_(2); // bumps the version counter the view shares
    const b = tapStats(x.view(-1));
    assert.ok(Math.abs(b.sumsq - 4 * a.sumsq) <= 1e-4 * b.sumsq, `after x *= 2: sumsq ${b.sumsq} vs 4 x ${a.sumsq}`);
    assert.deepEqual(b, torch.stats(x));
    x.narrow(0, 3, 1).fill_(NaN); // a write through a narrowed view
    assert.equal(tapStats(x).nan, 100);
    const band = { lo: -0.5, hi: 0.5 };
    assert.equal(tapStats(x, band).sat, torch.stats(x, band).sat, 'another band is another reduction');
    // Freed and reallocated: the same address may come back holding other values.
    for (let i = 0; i < 20; i++) {
      const u = torch.randn([64, 100]);
      const s = tapStats(u);
      u.dispose();
      const w = torch.randn([64, 100]).mul(3);
      assert.deepEqual(tapStats(w), torch.stats(w), `round ${i}: a new tensor is reduced afresh (sumsq was ${s.sumsq})`);
    }
    // A narrowed (offset) view shares the version counter but not the first element.
    const y = torch.randn([10, 10]);
    tapStats(y);
    assert.deepEqual(tapStats(y.narrow(0, 5, 5)), torch.stats(y.narrow(0, 5, 5)));
  });
});
