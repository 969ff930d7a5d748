// nanscope as a library, imported by its package name (package.json `exports`; the test
// suite resolves it to the sources with --conditions=nanscope-source, a consumer to dist/).
// A small CNN defined here, trained with probes by the Trainer and by a hand-written loop,
// and a planted NaN located and explained.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { torch, nn, optim, watch, locate, Trainer, openStore, defaultConfig, validate, loadFashionMnist } from 'nanscope';
import { tmp } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');

class SmallCnn extends nn.Module {
  readonly features = this.addModule('features', new nn.Sequential(
    new nn.Conv2d(1, 8, 5, { padding: 2 }), new nn.ReLU(), new nn.MaxPool2d(2, 2),
    new nn.Conv2d(8, 16, 5), new nn.ReLU(), new nn.MaxPool2d(2, 2),
  ));
  readonly head = this.addModule('head', new nn.Linear(16 * 5 * 5, 10));
  forward(x: torch.Tensor): torch.Tensor { return this.head.call(this.features.call(x).flatten(1)); }
}

test('package.json: exports, types and the build point at what tsconfig.build.json emits from src/index.ts', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const build = readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8');
  assert.match(build, /"rootDir": "src"/);
  assert.match(build, /"outDir": "dist"/);
  assert.match(build, /"declaration": true/);
  assert.equal(pkg.types, './dist/index.d.ts');
  assert.deepEqual(pkg.exports['.'], { 'nanscope-source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' });
  assert.match(pkg.scripts['build:ts'], /tsconfig\.build\.json/);
});

test('the Trainer trains a CNN defined in code, watched, and stops at a planted NaN with a located report', async () => {
  const data = await loadFashionMnist({ limitTrain: 512, limitTest: 100 });
  const store = openStore(tmp());
  const config = validate({ ...defaultConfig('code'), batchSize: 64, lr: 0.1, maxSteps: 6, evaluate: false, checkpointEvery: 0, threads: 1 });
  const run = store.createRun({ name: 'small cnn', config });
  let net: nn.Module | null = null;
  const trainer = new Trainer(config, {
    store, runId: run.id, data, model: () => new SmallCnn(),
    beforeStep: (step, m) => {
      net = m;
      if (step === 4) torch.noGrad(() => (m as SmallCnn).head.weight.narrow(0, 3, 1).narrow(1, 7, 1).fill_(NaN));
    },
  });
  try {
    assert.ok(trainer.net instanceof SmallCnn);
    const r = await trainer.run();
    assert.equal(r.status, 'diverged');
    assert.equal(r.report?.step, 4);
    assert.equal(r.report?.pass, 'forward');
    assert.equal(r.report?.layer, 'head');
    assert.equal(r.report?.tensor, 'weight');
    assert.equal(r.report?.counts.nan, 1);
    assert.match(r.report!.explanation.en, /head|fc/);
    // Every step before it was probed and stored, layer by layer.
    const layers = store.getLayers(run.id);
    assert.ok(layers.some((l) => l.name === 'head'), JSON.stringify(layers));
    assert.equal(store.getRun(run.id)?.status, 'diverged');
  } finally {
    trainer.dispose();
    store.close();
  }
  assert.ok(net !== null);
});

test('watch() reads every layer of a hand-written loop; locate() names a planted NaN', () => {
  torch.setNumThreads(1);
  torch.manualSeed(0);
  const net = new SmallCnn();
  const opt = new optim.SGD(net.parameters(), { lr: 0.05 });
  const w = watch(net, [1, 1, 28, 28]);
  try {
    torch.tidy(() => {
      const X = torch.rand([8, 1, 28, 28]);
      const y = torch.tensor(Int32Array.from({ length: 8 }, (_, i) => i % 10), [8], { dtype: 'int64' });
      w.begin();
      const loss = nn.crossEntropyLoss(net.call(X), y);
      opt.zeroGrad();
      loss.backward();
      w.end(X);
      const applied = new Map<torch.Tensor, number>();
      opt.step(applied);
      const r = w.updated(applied);
      assert.deepEqual(r.layers.map((l) => l.name), w.layers.map((l) => l.name));
      assert.ok(r.layers.length >= 2);
      assert.ok(r.gradsFinite && r.gradNorm > 0 && Number.isFinite(r.gradNorm));
      const head = r.layers.find((l) => l.name === 'head')!;
      assert.ok(head.values.w_norm > 0 && head.values.grad_w_norm > 0 && head.values.update_ratio > 0);
      assert.equal(r.firstNonFiniteLayer, null);

      assert.equal(locate(net, X, y), null); // a clean step: nothing to report
      torch.noGrad(() => net.head.bias!.narrow(0, 2, 1).fill_(Infinity));
      const rep = locate(net, X, y, { step: 2 });
      assert.ok(rep);
      assert.equal(rep.pass, 'forward');
      assert.equal(rep.layer, 'head');
      assert.equal(rep.tensor, 'bias');
      assert.equal(rep.counts.posInf, 1);
      assert.equal(rep.step, 2);
      assert.ok(rep.explanation.en.length > 0 && rep.explanation.zh.length > 0);
    });
  } finally {
    w.remove();
    net.dispose();
  }
});

test('process-wide effects of the addon: on by default, each turned off by its environment variable', () => {
  const probe = `import { torch } from 'nanscope';
const e = torch.processEffects();
// 4 MiB, freed, then again: the caching allocator serves the second from its cache.
torch.tidy(() => { torch.zeros([1 << 20]); });
torch.tidy(() => { torch.zeros([1 << 20]); });
console.log(JSON.stringify({ ...e, hits: torch.cpuCacheStats().hits }));`;
  const run = (env: Record<string, string>) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=nanscope-source', '--input-type=module', '-e', probe],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as { mallocTuning: boolean; cpuAllocator: boolean; hits: number };
  };
  const on = run({});
  assert.deepEqual([on.mallocTuning, on.cpuAllocator], [true, true]);
  assert.ok(on.hits >= 1, `cache hits ${on.hits}`);
  const off = run({ NANSCOPE_MALLOC_TUNING: '0', NANSCOPE_CPU_ALLOCATOR: '0' });
  assert.deepEqual(off, { mallocTuning: false, cpuAllocator: false, hits: 0 });
  const mallocOnly = run({ NANSCOPE_CPU_ALLOCATOR: '0' });
  assert.deepEqual([mallocOnly.mallocTuning, mallocOnly.cpuAllocator], [true, false]);
});

test('the caching allocator keeps the footprint near the live peak: a miss unmaps cached blocks of other sizes first', () => {
  // 512 MiB live then freed, then 384 MiB: an exact-size cache would hold both (896 MiB, the sum
  // of each size's peak); the footprint rule allows the live peak (512) plus a quarter (at least
  // 128 MiB), so the 384 MiB miss unmaps the 512 MiB block first.
  const probe = `import { torch } from 'nanscope';
torch.tidy(() => { torch.zeros([128 << 20]); });
torch.tidy(() => { torch.zeros([96 << 20]); });
const a = torch.cpuCacheStats();
torch.tidy(() => { torch.zeros([96 << 20]); });
const b = torch.cpuCacheStats();
console.log(JSON.stringify({ a, b }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=nanscope-source', '--input-type=module', '-e', probe],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const { a, b } = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<'a' | 'b', torch.CpuCacheStats>;
  const MiB = 1 << 20;
  assert.equal(a.evictions, 1, 'the 512 MiB block made room for the 384 MiB one');
  assert.equal(a.cachedBytes, 384 * MiB);
  assert.ok(a.cachedBytes <= 1.25 * 512 * MiB);
  // The same size again is a hit, with nothing evicted.
  assert.deepEqual([b.hits - a.hits, b.evictions - a.evictions, b.cachedBytes], [1, 0, 384 * MiB]);
});
