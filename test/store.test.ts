// Run store tests against real SQLite files in a temp dir, including other
// processes writing concurrently and a writer killed with SIGKILL.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import {
  fromJson,
  isSafeId,
  openStore,
  readJson,
  readJsonSync,
  toJson,
  writeFileAtomic,
  writeFileAtomicSync,
  writeJsonAtomic,
  describeMachine,
  exportRun,
  importBundle,
  type Machine,
  type StepInput,
  type Store,
} from '../src/store/index.js';
import { migrate, schemaVersion } from '../src/store/db.js';
import { MIGRATIONS } from '../src/store/migrations.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const storeUrl = pathToFileURL(join(repoRoot, 'src/store/index.ts')).href;
const tmpRoot = mkdtempSync(join(tmpdir(), 'nanscope-store-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

let dirCount = 0;
function freshRoot(): string {
  return join(tmpRoot, `root${dirCount++}`);
}

function withStore(fn: (s: Store, root: string) => void): void {
  const root = freshRoot();
  const s = openStore(root);
  try {
    fn(s, root);
  } finally {
    s.close();
  }
}

const LAYERS = [
  { name: 'conv1', kind: 'Conv2d' },
  { name: 'conv2', kind: 'Conv2d' },
  { name: 'fc1', kind: 'Linear' },
];
const FIELDS = ['mean', 'std', 'max', 'nonfinite'];
const WIDTH = LAYERS.length * FIELDS.length;

function step(n: number, extra: Partial<StepInput> = {}): StepInput {
  return { step: n, epoch: Math.floor(n / 100), batch: n % 100, loss: 1 / n, lr: 0.01, ...extra };
}

function sameFloats(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

// ---- child processes --------------------------------------------------------

interface Child {
  /** Resolves with the first stdout line equal to `line`. */
  waitFor(line: string): Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
}

// Child code is an ES module evaluated with tsx, so it imports the store's .ts
// sources directly; STORE and ARGS reach it through the environment.
function spawnChild(body: string, args: unknown): Child {
  const code = `import fs from 'node:fs';\nconst { openStore, writeFileAtomicSync } = await import(process.env.STORE);\nconst a = JSON.parse(process.env.ARGS);\n${body}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    env: { ...process.env, STORE: storeUrl, ARGS: JSON.stringify(args) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { line: string; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    const lines = stdout.split('\n');
    for (const w of [...waiters]) {
      if (lines.includes(w.line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (res) => child.on('close', (code, signal) => res({ code, signal, stdout, stderr })),
  );
  return {
    waitFor: (line) =>
      new Promise<void>((res, rej) => {
        if (stdout.split('\n').includes(line)) return res();
        waiters.push({ line, resolve: res });
        void exit.then((e) => rej(new Error(`child exited (${e.code ?? e.signal}) before "${line}": ${e.stderr}`)));
      }),
    exit,
    kill: (signal) => child.kill(signal),
  };
}

// Children spin on this file so they all start writing at the same moment.
const WAIT_FOR_GO = `
const sleeper = new Int32Array(new SharedArrayBuffer(4));
while (!fs.existsSync(a.go)) Atomics.wait(sleeper, 0, 0, 1);
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- tests ------------------------------------------------------------------

describe('json helpers', () => {
  test('round-trip NaN and ±Infinity, nested and in typed arrays', () => {
    const value = { a: NaN, b: [Infinity, -Infinity, 1.5, null], c: { d: 'x', e: -0.25 }, f: new Float32Array([NaN, 2]) };
    const text = toJson(value);
    assert.doesNotMatch(text, /null\s*,\s*null/); // non-finite did not collapse to null
    const back = fromJson<{ a: number; b: (number | null)[]; c: unknown; f: number[] }>(text);
    assert.ok(Number.isNaN(back.a));
    assert.deepEqual(back.b, [Infinity, -Infinity, 1.5, null]);
    assert.deepEqual(back.c, { d: 'x', e: -0.25 });
    assert.ok(Number.isNaN(back.f[0]));
    assert.equal(back.f[1], 2);
    assert.equal(toJson(undefined), 'null');
    assert.ok(Number.isNaN(fromJson<number>(toJson(NaN))));
  });
});

describe('migrations', () => {
  test('from empty, then idempotent re-open keeps data', () => {
    const root = freshRoot();
    const s1 = openStore(root);
    const run = s1.createRun({ name: 'first' });
    s1.close();
    const db = new Database(join(root, 'nanscope.db'));
    assert.equal(schemaVersion(db), MIGRATIONS.length);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
      (t) => t.name,
    );
    for (const t of ['runs', 'layers', 'steps', 'probes', 'epochs', 'events', 'artifacts', 'sweeps']) {
      assert.ok(tables.includes(t), `table ${t}`);
    }
    db.close();
    const s2 = openStore(root);
    assert.equal(s2.getRun(run.id)?.name, 'first');
    s2.close();
  });

  /** A database left at schema `version` holding one run, 'old-run'; `fill` adds more before it closes. */
  function oldDatabase(version: number, fill: (db: Database.Database) => void = () => {}): string {
    const root = freshRoot();
    mkdirSync(root, { recursive: true });
    const db = new Database(join(root, 'nanscope.db'));
    migrate(db, MIGRATIONS.slice(0, version));
    db.prepare(`INSERT INTO runs (id, name, kind, status, config, created_at, updated_at, dir)
      VALUES ('old-run', 'old', 'train', 'finished', '{}', 1, 1, 'old-run')`).run();
    fill(db);
    db.close();
    return root;
  }

  test('a version-1 database (before histograms) upgrades in place and keeps its runs', () => {
    const root = oldDatabase(1);
    const s = openStore(root);
    assert.equal(s.getRun('old-run')?.name, 'old');
    assert.deepEqual(s.histogramSteps('old-run'), []);
    s.close();
    const db2 = new Database(join(root, 'nanscope.db'));
    assert.equal(schemaVersion(db2), MIGRATIONS.length);
    db2.close();
  });

  test('a database of flat layers (before module trees) upgrades: each layer gets parent, depth, alias and has_weight', () => {
    const kinds = ['Conv2d', 'ReLU', 'MaxPool2d', 'Conv2d', 'BatchNorm2d', 'ReLU', 'Flatten', 'Linear'];
    const root = oldDatabase(MIGRATIONS.findIndex((m) => m.name.startsWith('layers of module trees')), (db) =>
      kinds.forEach((k, i) => db.prepare('INSERT INTO layers (run_id, idx, name, kind) VALUES (?, ?, ?, ?)').run('old-run', i, String(i), k)));
    const s = openStore(root);
    const got = s.getLayers('old-run');
    assert.deepEqual(got.map((l) => l.alias), ['conv1', 'relu1', 'pool1', 'conv2', 'bn1', 'relu2', 'flatten', 'fc1']);
    assert.deepEqual(got.map((l) => l.hasWeight), [true, false, false, true, false, false, false, true]);
    assert.ok(got.every((l, i) => l.idx === i && l.name === String(i) && l.parent === '' && l.depth === 1));
    // New runs store module-tree layers; parent and depth default from the dotted path.
    const r = s.createRun({ name: 'tree' });
    s.setLayers(r.id, [{ name: '0', kind: 'Sequential' }, { name: '1.0.conv1', kind: 'Conv2d', alias: 'conv1', hasWeight: true }], ['a']);
    assert.deepEqual(s.getLayers(r.id)[1], { idx: 1, name: '1.0.conv1', kind: 'Conv2d', parent: '1.0', depth: 3, alias: 'conv1', hasWeight: true });
    s.close();
  });

  test('a database from before machines (migration 6) upgrades: old runs show no machine, new ones store theirs', () => {
    const root = oldDatabase(MIGRATIONS.findIndex((m) => m.name.startsWith('the machine each run')));
    const s = openStore(root);
    const old = s.getRun('old-run')!;
    assert.equal(old.name, 'old');
    assert.equal(old.machine, null, 'not recorded then: no guess');
    const m: Machine = { cpu: 'Intel(R) Xeon(R) CPU', cores: 2, cpuIsa: 'AVX-512', atenIsa: 'AVX2', threads: 1, torch: '1.13.0',
      onednn: '2.6.3', blas: 'generic', gpu: null, memGiB: 8, os: 'linux 6', node: '20' };
    const r = s.createRun({ name: 'new', machine: m });
    assert.deepEqual(s.getRun(r.id)!.machine, m);
    s.updateRun(old.id, { machine: { ...m, threads: 2 } });
    assert.equal(s.getRun(old.id)!.machine?.threads, 2);
    // Travels with a run bundle (a queue worker's machine reaches the coordinator's store).
    const coordinator = openStore(freshRoot());
    const sw = coordinator.createSweep({ name: 'q', grid: {} });
    const { runId } = importBundle(coordinator, sw.id, 'c', exportRun(s, r.id));
    assert.deepEqual(coordinator.getRun(runId)!.machine, m);
    coordinator.close();
    assert.match(describeMachine(m), /^2 x Intel\(R\) Xeon\(R\) CPU \(AVX-512 CPU, ATen kernels AVX2\), 1 thread, libtorch 1\.13\.0/);
    s.close();
  });

  test('applies only pending migrations, in order, and rolls back a failing one', () => {
    const db = new Database(':memory:');
    const m1 = { version: 1, name: 'a', up: 'CREATE TABLE a (x)' };
    const m2 = { version: 2, name: 'b', up: 'CREATE TABLE b (x)' };
    assert.deepEqual(migrate(db, [m1]), { from: 0, to: 1 });
    assert.deepEqual(migrate(db, [m1, m2]), { from: 1, to: 2 }); // would fail if m1 re-ran
    assert.deepEqual(migrate(db, [m1, m2]), { from: 2, to: 2 });
    const bad = { version: 3, name: 'bad', up: 'CREATE TABLE c (x); CREATE TABLE a (x)' };
    assert.throws(() => migrate(db, [m1, m2, bad]), /already exists/);
    assert.equal(schemaVersion(db), 2);
    assert.deepEqual(db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'c'").get(), { n: 0 });
    assert.throws(() => migrate(db, [m2]), /expected 1/);
    db.close();
  });

  test('refuses a database from a newer nanscope', () => {
    const root = freshRoot();
    openStore(root).close();
    const db = new Database(join(root, 'nanscope.db'));
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    assert.throws(() => openStore(root), /newer|upgrade/);
  });
});

describe('runs', () => {
  test('create with generated safe id, get, runDir', () =>
    withStore((s, root) => {
      const r = s.createRun({ name: 'AlexNet / lr=0.9 (bad)', config: { lr: 0.9, clip: Infinity }, seed: 42 });
      assert.match(r.id, /^\d{8}-\d{6}-alexnet-lr-0.9-bad-[0-9a-f]{4}$/);
      assert.ok(isSafeId(r.id));
      assert.equal(r.kind, 'train');
      assert.equal(r.status, 'running');
      assert.equal(r.pid, process.pid);
      assert.equal(r.finishedAt, null);
      assert.deepEqual(r.config, { lr: 0.9, clip: Infinity });
      assert.equal(r.seed, 42);
      const dir = s.runDir(r.id);
      assert.ok(isAbsolute(dir));
      assert.equal(dir, join(resolve(root), r.id));
      assert.ok(existsSync(dir));
      assert.equal(s.getRun('nope'), undefined);
      assert.throws(() => s.runDir('nope'), /unknown run/);
    }));

  test('rejects unsafe or duplicate ids and bad enums', () =>
    withStore((s) => {
      for (const id of ['../x', 'a/b', '.hidden', '', 'a b', '-flag']) {
        assert.throws(() => s.createRun({ id, name: 'x' }), /invalid run id/, id);
      }
      s.createRun({ id: 'fixed-1', name: 'x' });
      assert.throws(() => s.createRun({ id: 'fixed-1', name: 'x' }), /already exists/);
      assert.throws(() => s.createRun({ name: 'x', status: 'weird' as 'running' }), /invalid run status/);
      assert.throws(() => s.createRun({ name: 'x', parentId: 'missing' }), /unknown parent/);
    }));

  test('list with filters, newest first, limit', () =>
    withStore((s) => {
      const a = s.createRun({ id: 'a', name: 'a' });
      const b = s.createRun({ id: 'b', name: 'b', kind: 'experiment' });
      const c = s.createRun({ id: 'c', name: 'c', kind: 'replay', parentId: a.id });
      s.setStatus(b.id, 'diverged');
      assert.deepEqual(
        s.listRuns().map((r) => r.id),
        [c.id, b.id, a.id],
      );
      assert.deepEqual(
        s.listRuns({ status: 'running' }).map((r) => r.id),
        [c.id, a.id],
      );
      assert.deepEqual(
        s.listRuns({ status: ['diverged', 'failed'] }).map((r) => r.id),
        [b.id],
      );
      assert.deepEqual(
        s.listRuns({ kind: 'replay' }).map((r) => r.id),
        [c.id],
      );
      assert.deepEqual(
        s.listRuns({ parentId: a.id }).map((r) => r.id),
        [c.id],
      );
      assert.equal(s.listRuns({ limit: 2 }).length, 2);
      assert.equal(s.listRuns({ status: [] }).length, 0);
    }));

  test('update and setStatus, with NaN results preserved', () =>
    withStore((s) => {
      const r = s.createRun({ name: 'u' });
      const u = s.updateRun(r.id, {
        finalLoss: NaN,
        finalTrainAcc: 0.5,
        finalTestAcc: Infinity,
        verdict: { kind: 'exploding', ratio: Infinity },
        epochsDone: 3,
      });
      assert.ok(Number.isNaN(u.finalLoss));
      assert.equal(u.finalTrainAcc, 0.5);
      assert.equal(u.finalTestAcc, Infinity);
      assert.deepEqual(u.verdict, { kind: 'exploding', ratio: Infinity });
      assert.equal(u.epochsDone, 3);
      assert.ok(u.updatedAt >= r.updatedAt);
      // Touching one NaN column leaves the others' NaN bits alone; null clears.
      const v = s.updateRun(r.id, { finalTrainAcc: NaN });
      assert.ok(Number.isNaN(v.finalLoss));
      assert.ok(Number.isNaN(v.finalTrainAcc));
      const w = s.updateRun(r.id, { finalLoss: null, finalTrainAcc: 0.9, verdict: null });
      assert.equal(w.finalLoss, null);
      assert.equal(w.finalTrainAcc, 0.9);
      assert.equal(w.verdict, null);

      const f = s.setStatus(r.id, 'failed', { error: 'boom' });
      assert.equal(f.status, 'failed');
      assert.equal(f.error, 'boom');
      assert.ok(typeof f.finishedAt === 'number');
      const again = s.setStatus(r.id, 'running');
      assert.equal(again.finishedAt, null);
      assert.throws(() => s.updateRun('missing', { name: 'x' }), /unknown run/);
      assert.throws(() => s.setStatus(r.id, 'nope' as 'running'), /invalid run status/);
    }));

  test('interruptStaleRuns marks runs whose writer died', () =>
    withStore((s) => {
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      assert.ok(dead);
      const stale = s.createRun({ name: 'stale', pid: dead });
      const live = s.createRun({ name: 'live' });
      const changed = s.interruptStaleRuns();
      assert.deepEqual(
        changed.map((r) => r.id),
        [stale.id],
      );
      assert.equal(s.getRun(stale.id)?.status, 'interrupted');
      assert.equal(s.getRun(live.id)?.status, 'running');
    }));

  test('deleteRun cascades to all rows and optionally removes the folder', () =>
    withStore((s) => {
      const r = s.createRun({ name: 'd' });
      s.setLayers(r.id, LAYERS, FIELDS);
      s.logSteps(r.id, [step(1)], [{ step: 1, values: new Float32Array(WIDTH) }]);
      s.logEpoch(r.id, { epoch: 0, loss: 1 });
      s.addEvent(r.id, 1, 'note', 'hi');
      s.addArtifact(r.id, { kind: 'checkpoint', relPath: 'ckpt/1.bin' });
      const dir = s.runDir(r.id);
      assert.ok(s.deleteRun(r.id, { removeFiles: true }));
      assert.equal(s.getRun(r.id), undefined);
      assert.equal(s.getSteps(r.id).length, 0);
      assert.equal(s.getLayers(r.id).length, 0);
      assert.equal(s.getEvents(r.id).length, 0);
      assert.equal(s.getArtifacts(r.id).length, 0);
      assert.equal(s.getEpochs(r.id).length, 0);
      assert.ok(!existsSync(dir));
      assert.equal(s.deleteRun(r.id), false);
    }));
});

describe('steps and probes', () => {
  test('round trip with NaN/±Inf in every numeric field and probe blob', () =>
    withStore((s) => {
      const r = s.createRun({ name: 'nan' });
      s.setLayers(r.id, LAYERS, FIELDS);
      assert.deepEqual(s.getLayers(r.id), LAYERS.map((l, idx) => ({ idx, ...l, parent: '', depth: 1, alias: null, hasWeight: null })));
      assert.deepEqual(s.getRun(r.id)?.probeFields, FIELDS);
      const rows: StepInput[] = [
        step(1, { gradNorm: 2, timeMs: 10, imgPerS: 900, inputMin: 0, inputMax: 1, inputMean: 0.5, inputStd: 0.3, trainAcc: 0.25 }),
        step(2, { loss: NaN, gradNorm: Infinity, inputMin: -Infinity, inputMax: Infinity, inputMean: NaN, inputStd: NaN }),
        step(3, { loss: Infinity, lr: NaN, timeMs: NaN, imgPerS: -Infinity, trainAcc: NaN }),
        step(4, { nonfinite: true }),
      ];
      const probes = rows.map((x) => {
        const v = new Float32Array(WIDTH).map((_, i) => x.step * 100 + i);
        if (x.step === 2) v.set([NaN, Infinity, -Infinity, -0], 4);
        return { step: x.step, values: v };
      });
      s.logSteps(r.id, rows, probes);

      const got = s.getSteps(r.id);
      assert.equal(got.length, 4);
      assert.deepEqual(got[0], {
        ...rows[0],
        nonfinite: false,
      });
      assert.ok(Number.isNaN(got[1].loss));
      assert.equal(got[1].gradNorm, Infinity);
      assert.equal(got[1].inputMin, -Infinity);
      assert.equal(got[1].inputMax, Infinity);
      assert.ok(Number.isNaN(got[1].inputMean));
      assert.ok(Number.isNaN(got[1].inputStd));
      assert.equal(got[1].trainAcc, null, 'a value left out reads back as null');
      assert.ok(Number.isNaN(got[2].trainAcc), 'the last value column (nan_mask bit 9) keeps its NaN');
      assert.equal(got[1].timeMs, null); // not given stays null, not NaN
      assert.equal(got[1].nonfinite, true);
      assert.equal(got[2].loss, Infinity);
      assert.ok(Number.isNaN(got[2].lr));
      assert.ok(Number.isNaN(got[2].timeMs));
      assert.equal(got[2].imgPerS, -Infinity);
      assert.equal(got[2].nonfinite, true);
      assert.equal(got[3].nonfinite, true); // explicit flag wins

      const p = s.getProbes(r.id);
      assert.deepEqual(p.steps, [1, 2, 3, 4]);
      assert.deepEqual(p.layers, ['conv1', 'conv2', 'fc1']);
      assert.deepEqual(p.fields, FIELDS);
      p.values.forEach((v, i) => assert.ok(sameFloats(v, probes[i].values), `probe ${i}`));
      assert.ok(Object.is(p.values[1][7], -0));

      const run = s.getRun(r.id);
      assert.equal(run?.stepsDone, 4);
      assert.equal(run?.firstNanStep, 2);
      assert.equal(run?.firstNanEpoch, 0);
      assert.equal(s.latestStep(r.id), 4);
    }));

  test('ranges, every, and probeSeries matrix', () =>
    withStore((s) => {
      const r = s.createRun({ name: 'range' });
      s.setLayers(r.id, LAYERS, FIELDS);
      const rows = Array.from({ length: 20 }, (_, i) => step(i + 1));
      // value = step*1000 + layer*10 + field, so every cell is identifiable.
      const probes = rows.map((x) => ({
        step: x.step,
        values: new Float32Array(WIDTH).map((_, i) => x.step * 1000 + Math.floor(i / FIELDS.length) * 10 + (i % FIELDS.length)),
      }));
      s.logSteps(r.id, rows, probes);
      assert.deepEqual(
        s.getSteps(r.id, { from: 5, to: 8 }).map((x) => x.step),
        [5, 6, 7, 8],
      );
      assert.deepEqual(
        s.getSteps(r.id, { every: 5 }).map((x) => x.step),
        [5, 10, 15, 20],
      );
      assert.deepEqual(s.getProbes(r.id, { from: 10, every: 4 }).steps, [12, 16, 20]);
      const series = s.probeSeries(r.id, 'max', { to: 3 });
      assert.deepEqual(series.steps, [1, 2, 3]);
      assert.deepEqual(series.layers, ['conv1', 'conv2', 'fc1']);
      assert.deepEqual(Array.from(series.data), [1002, 1012, 1022, 2002, 2012, 2022, 3002, 3012, 3022]);
      assert.throws(() => s.probeSeries(r.id, 'nope'), /unknown probe field/);
      assert.throws(() => s.getSteps(r.id, { every: 0 }), /every/);
      assert.equal(s.latestStep('missing'), null);
    }));

  test('re-logging a step replaces it; truncateSteps drops the tail', () =>
    withStore((s) => {
      const r = s.createRun({ name: 'relog' });
      s.setLayers(r.id, LAYERS, FIELDS);
      s.logSteps(
        r.id,
        [1, 2, 3].map((n) => step(n, { loss: NaN })),
        [1, 2, 3].map((n) => ({ step: n, values: new Float32Array(WIDTH).fill(NaN) })),
      );
      s.logSteps(r.id, [step(2, { loss: 0.5, gradNorm: 1 })], [{ step: 2, values: new Float32Array(WIDTH).fill(7) }]);
      const got = s.getSteps(r.id);
      assert.equal(got.length, 3);
      assert.equal(got[1].loss, 0.5);
      assert.equal(got[1].gradNorm, 1);
      assert.equal(got[1].nonfinite, false);
      assert.ok(s.getProbes(r.id).values[1].every((v) => v === 7));
      assert.equal(s.getRun(r.id)?.firstNanStep, 1); // history of the first NaN is kept

      assert.equal(s.truncateSteps(r.id, 1), 2);
      assert.deepEqual(
        s.getSteps(r.id).map((x) => x.step),
        [1],
      );
      assert.deepEqual(s.getProbes(r.id).steps, [1]);
      assert.equal(s.getRun(r.id)?.stepsDone, 1);
    }));

  test('histograms: stored on their steps only, newest at or before a step, NaN rows kept, dropped by truncateSteps', () =>
    withStore((s) => {
      const r = s.createRun({ name: 'hist' });
      s.setLayers(r.id, LAYERS, FIELDS);
      const bins = 5;
      const mk = (step: number) => ({
        act: Float64Array.from({ length: LAYERS.length * bins }, (_, i) => step * 1000 + i),
        grad: Float64Array.from({ length: LAYERS.length * bins }, (_, i) => (i < bins ? NaN : step + i)),
      });
      s.logSteps(r.id, [1, 2, 3, 4].map((n) => step(n)), [1, 2, 3, 4].map((n) => ({ step: n, values: new Float32Array(WIDTH), hist: n % 2 ? mk(n) : null })));
      assert.deepEqual(s.histogramSteps(r.id), [1, 3]);
      assert.equal(s.histogramAt(r.id, 0), null);
      const h2 = s.histogramAt(r.id, 2)!;
      assert.equal(h2.step, 1);
      assert.equal(h2.bins, bins);
      assert.deepEqual(Array.from(h2.act), Array.from(mk(1).act));
      const h4 = s.histogramAt(r.id, 99)!;
      assert.equal(h4.step, 3);
      assert.ok(Array.from(h4.grad.subarray(0, bins)).every(Number.isNaN), 'a layer without gradients stays NaN');
      assert.equal(h4.grad[bins], 3 + bins);
      assert.throws(() => s.logSteps(r.id, [step(5)], [{ step: 5, values: new Float32Array(WIDTH), hist: { act: [1, 2], grad: [1] } }]), /act and grad/);
      assert.deepEqual(s.histogramSteps(r.id), [1, 3], 'the failed call wrote nothing');
      s.truncateSteps(r.id, 2);
      assert.deepEqual(s.histogramSteps(r.id), [1]);
    }));

  test('a bad probe rolls back the whole call; setLayers is idempotent and guarded', () =>
    withStore((s) => {
      const r = s.createRun({ name: 'bad' });
      assert.throws(() => s.logSteps(r.id, [step(1)], [{ step: 1, values: new Float32Array(WIDTH) }]), /setLayers/);
      s.setLayers(r.id, LAYERS, FIELDS);
      assert.throws(
        () => s.logSteps(r.id, [step(1), step(2)], [{ step: 1, values: new Float32Array(WIDTH - 1) }]),
        /expected layers×fields/,
      );
      assert.equal(s.getSteps(r.id).length, 0);
      assert.equal(s.getRun(r.id)?.stepsDone, 0);
      assert.throws(() => s.logSteps('missing', [step(1)]), /FOREIGN KEY|unknown run/);
      assert.throws(() => s.logSteps(r.id, [{ ...step(1), loss: undefined as unknown as number }]), /loss and lr/);

      s.logSteps(r.id, [step(1)], [{ step: 1, values: new Float32Array(WIDTH) }]);
      s.setLayers(r.id, LAYERS, FIELDS); // resume: same layout, fine
      assert.throws(() => s.setLayers(r.id, LAYERS.slice(1), FIELDS), /different layer/);
      assert.throws(() => s.setLayers(r.id, LAYERS, ['a', 'a']), /unique/);
    }));
});

describe('epochs, events, artifacts', () => {
  test('epochs upsert and count', () =>
    withStore((s) => {
      const r = s.createRun({ name: 'ep' });
      s.logEpoch(r.id, { epoch: 0, loss: 0.9, trainAcc: 0.6, testAcc: 0.55, imgPerS: 1000, timeS: 12 });
      s.logEpoch(r.id, { epoch: 1, loss: NaN, trainAcc: 0.1 });
      s.logEpoch(r.id, { epoch: 1, loss: NaN, trainAcc: 0.1, testAcc: NaN });
      const e = s.getEpochs(r.id);
      assert.equal(e.length, 2);
      assert.deepEqual({ ...e[0], at: 0 }, { epoch: 0, loss: 0.9, trainAcc: 0.6, testAcc: 0.55, imgPerS: 1000, timeS: 12, at: 0 });
      assert.ok(Number.isNaN(e[1].loss));
      assert.ok(Number.isNaN(e[1].testAcc));
      assert.equal(e[1].imgPerS, null);
      assert.equal(s.getRun(r.id)?.epochsDone, 2);
    }));

  test('events by kind with non-finite payloads', () =>
    withStore((s) => {
      const r = s.createRun({ name: 'ev' });
      s.addEvent(r.id, 10, 'nan', { layer: 'conv1', value: NaN });
      s.addEvent(r.id, 11, 'skip', { reason: 'nonfinite loss' });
      const ck = s.addEvent(r.id, null, 'checkpoint');
      assert.equal(ck.payload, null);
      const all = s.getEvents(r.id);
      assert.deepEqual(
        all.map((e) => e.kind),
        ['nan', 'skip', 'checkpoint'],
      );
      const nan = s.getEvents(r.id, 'nan');
      assert.equal(nan.length, 1);
      assert.equal(nan[0].step, 10);
      assert.ok(Number.isNaN((nan[0].payload as { value: number }).value));
      assert.throws(() => s.addEvent(r.id, 1, 'bogus' as 'note'), /invalid event kind/);
    }));

  test('artifacts: relative paths only, replace on same path, latest by step', () =>
    withStore((s) => {
      const r = s.createRun({ name: 'art' });
      s.addArtifact(r.id, { kind: 'checkpoint', relPath: 'ckpt/step-100.bin', step: 100, bytes: 10 });
      s.addArtifact(r.id, { kind: 'checkpoint', relPath: 'ckpt/step-200.bin', step: 200, bytes: 20 });
      s.addArtifact(r.id, { kind: 'bad-batch', relPath: 'bad/step-150.bin', step: 150 });
      s.addArtifact(r.id, { kind: 'checkpoint', relPath: 'ckpt/step-100.bin', step: 100, bytes: 11 });
      assert.equal(s.getArtifacts(r.id).length, 3);
      assert.equal(s.getArtifacts(r.id, 'checkpoint').find((a) => a.step === 100)?.bytes, 11);
      assert.equal(s.latestArtifact(r.id, 'checkpoint')?.relPath, 'ckpt/step-200.bin');
      assert.equal(s.latestArtifact(r.id, 'report'), undefined);
      assert.equal(s.artifactPath(r.id, 'ckpt/step-200.bin'), join(s.runDir(r.id), 'ckpt', 'step-200.bin'));
      for (const bad of ['../other/x', '/etc/passwd', '.', 'a/../../x']) {
        assert.throws(() => s.addArtifact(r.id, { kind: 'checkpoint', relPath: bad }), /inside the run folder/, bad);
      }
    }));
});

describe('sweeps', () => {
  test('cells: unique per sweep, find, list, claim', () =>
    withStore((s) => {
      const sw = s.createSweep({ name: 'lr grid', grid: { lr: [0.01, 0.1, Infinity] } });
      assert.ok(isSafeId(sw.id));
      assert.deepEqual(s.getSweep(sw.id)?.grid, { lr: [0.01, 0.1, Infinity] });
      assert.equal(sw.status, 'running');
      const c1 = s.createRun({ name: 'cell', sweepId: sw.id, cellKey: 'lr=0.01' });
      assert.equal(c1.kind, 'sweep-cell');
      assert.throws(() => s.createRun({ name: 'dup', sweepId: sw.id, cellKey: 'lr=0.01' }), /already has a run for cell/);
      assert.equal(s.findCell(sw.id, 'lr=0.01')?.id, c1.id);
      assert.equal(s.findCell(sw.id, 'lr=0.1'), undefined);

      const claim1 = s.claimCell(sw.id, 'lr=0.1', { name: 'cell' });
      assert.equal(claim1.created, true);
      const claim2 = s.claimCell(sw.id, 'lr=0.1', { name: 'cell' });
      assert.equal(claim2.created, false);
      assert.equal(claim2.run.id, claim1.run.id);
      s.setStatus(c1.id, 'finished');
      assert.deepEqual(
        s.listSweepCells(sw.id).map((c) => [c.cellKey, c.status]),
        [
          ['lr=0.01', 'finished'],
          ['lr=0.1', 'running'],
        ],
      );
      assert.deepEqual(
        s.listRuns({ sweepId: sw.id }).map((c) => c.cellKey).sort(),
        ['lr=0.01', 'lr=0.1'],
      );
      // Same cell key in another sweep is fine.
      const other = s.createSweep({ grid: {} });
      s.createRun({ name: 'cell', sweepId: other.id, cellKey: 'lr=0.01' });
      assert.equal(s.setSweepStatus(sw.id, 'interrupted').status, 'interrupted');
      assert.equal(s.listSweeps().length, 2);
      assert.throws(() => s.setSweepStatus('missing', 'finished'), /unknown sweep/);
    }));
});

describe('atomic files', () => {
  test('write, overwrite, JSON with NaN, no temp files left', async () => {
    const dir = join(freshRoot(), 'a', 'b');
    const file = join(dir, 'ckpt.bin');
    writeFileAtomicSync(file, new Float32Array([1, NaN]));
    assert.ok(sameFloats(new Float32Array(new Uint8Array(readFileSync(file)).buffer), [1, NaN]));
    await writeFileAtomic(file, 'second');
    assert.equal(readFileSync(file, 'utf8'), 'second');
    await writeJsonAtomic(join(dir, 'state.json'), { loss: NaN, best: -Infinity, step: 3 });
    const state = await readJson<{ loss: number; best: number; step: number }>(join(dir, 'state.json'));
    assert.ok(Number.isNaN(state.loss));
    assert.equal(state.best, -Infinity);
    assert.equal(readJsonSync<{ step: number }>(join(dir, 'state.json')).step, 3);
    assert.deepEqual(readdirSync(dir).sort(), ['ckpt.bin', 'state.json']);
  });

  test('a failed rename leaves the target untouched and cleans the temp file', async () => {
    const dir = freshRoot();
    const target = join(dir, 'is-a-dir');
    mkdirSync(join(target, 'child'), { recursive: true });
    assert.throws(() => writeFileAtomicSync(target, 'x'));
    await assert.rejects(writeFileAtomic(target, 'x'));
    assert.deepEqual(readdirSync(dir), ['is-a-dir']);
  });

  test('kill -9 mid-write never leaves a partial target', async () => {
    const dir = freshRoot();
    mkdirSync(dir, { recursive: true });
    const target = join(dir, 'big.bin');
    const size = 4 << 20;
    const child = spawnChild(
      `for (let k = 1; ; k++) {
         writeFileAtomicSync(a.target, Buffer.alloc(a.size, k & 255));
         if (k === 2) console.log('go');
       }`,
      { target, size },
    );
    await child.waitFor('go');
    await sleep(5 + Math.random() * 30);
    child.kill('SIGKILL');
    const e = await child.exit;
    assert.equal(e.signal, 'SIGKILL', e.stderr);
    const data = readFileSync(target);
    assert.equal(data.length, size);
    const first = data[0];
    assert.ok(first !== 0 && data.every((b) => b === first), 'target is one whole version');
  });
});

describe('several processes', () => {
  test('concurrent opens of a new file all migrate cleanly', async () => {
    const root = freshRoot();
    const go = join(tmpRoot, `go-open-${dirCount}`);
    const kids = Array.from({ length: 4 }, (_, i) =>
      spawnChild(
        `console.log('ready');
         ${WAIT_FOR_GO}
         const s = openStore(a.root);
         const r = s.createRun({ name: 'opener-' + a.i });
         s.logSteps(r.id, [{ step: 1, epoch: 0, batch: 0, loss: 1, lr: 0.1 }]);
         s.close();`,
        { root, go, i },
      ),
    );
    await Promise.all(kids.map((k) => k.waitFor('ready')));
    writeFileSync(go, '');
    for (const k of kids) {
      const e = await k.exit;
      assert.equal(e.code, 0, e.stderr);
    }
    const s = openStore(root);
    assert.equal(s.listRuns().length, 4);
    assert.ok(s.checkIntegrity().ok);
    s.close();
  });

  test('two children and the parent write 500 steps each at once: no SQLITE_BUSY, all rows present', async () => {
    const root = freshRoot();
    const s = openStore(root);
    const shared = s.createRun({ name: 'shared' });
    s.setLayers(shared.id, LAYERS, FIELDS);
    const go = join(tmpRoot, `go-write-${dirCount}`);
    const N = 500;
    // Each writer owns a step range of the same run and also updates the same
    // runs row on every commit, so they really contend for the write lock.
    const writerBody = `
      const s = openStore(a.root);
      console.log('ready');
      ${WAIT_FOR_GO}
      const t0 = Date.now();
      for (let i = 0; i < a.n; i++) {
        const step = a.offset + i;
        s.logSteps(a.runId, [{ step, epoch: 0, batch: i, loss: 1 / (i + 1), lr: 0.1 }],
          [{ step, values: new Float32Array(a.width).fill(step) }]);
        if (i % 50 === 0) s.addEvent(a.runId, step, 'note', { who: a.offset });
      }
      console.log(JSON.stringify({ t0, t1: Date.now() }));
      s.close();`;
    const kids = [1, 2].map((k) =>
      spawnChild(writerBody, { root, go, runId: shared.id, offset: k * 10_000, n: N, width: WIDTH }),
    );
    await Promise.all(kids.map((k) => k.waitFor('ready')));
    writeFileSync(go, '');
    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      s.logSteps(shared.id, [step(i + 1)], [{ step: i + 1, values: new Float32Array(WIDTH).fill(i + 1) }]);
      if (i % 50 === 0) s.addEvent(shared.id, i + 1, 'note', { who: 0 });
    }
    const t1 = Date.now();
    const windows = [[t0, t1]];
    for (const k of kids) {
      const e = await k.exit;
      assert.equal(e.code, 0, e.stderr);
      assert.doesNotMatch(e.stderr, /SQLITE_BUSY|locked/);
      const w = JSON.parse(e.stdout.trim().split('\n').pop() ?? '{}') as { t0: number; t1: number };
      windows.push([w.t0, w.t1]);
    }
    // Sanity check that the writers did overlap in time.
    const overlap = Math.min(...windows.map((w) => w[1])) - Math.max(...windows.map((w) => w[0]));
    assert.ok(overlap > 0, `writers overlapped (${JSON.stringify(windows)})`);

    const steps = s.getSteps(shared.id).map((x) => x.step);
    assert.equal(steps.length, 3 * N);
    for (const offset of [0, 10_000, 20_000]) {
      const base = offset === 0 ? 1 : offset;
      for (let i = 0; i < N; i++) assert.ok(steps.includes(base + i), `step ${base + i}`);
    }
    const p = s.getProbes(shared.id);
    assert.equal(p.steps.length, 3 * N);
    assert.ok(p.values.every((v, i) => v.every((x) => x === p.steps[i])));
    assert.equal(s.getEvents(shared.id).length, 3 * (N / 50));
    assert.ok(s.checkIntegrity().ok);
    s.close();
  });

  test('kill -9 mid-logSteps leaves a consistent prefix of whole batches', async () => {
    const root = freshRoot();
    const setup = openStore(root);
    const run = setup.createRun({ name: 'crash' });
    setup.setLayers(run.id, LAYERS, FIELDS);
    setup.close();
    const BATCH = 200;
    const child = spawnChild(
      `const s = openStore(a.root);
       s.setStatus(a.runId, 'running'); // claim the run for this pid, as a resumed trainer does
       for (let b = 0; ; b++) {
         const rows = [], probes = [];
         for (let k = 1; k <= a.batch; k++) {
           const step = b * a.batch + k;
           rows.push({ step, epoch: b, batch: k, loss: step % 7 === 0 ? NaN : 1 / step, lr: 0.1, gradNorm: 1 });
           probes.push({ step, values: new Float32Array(a.width).fill(step) });
         }
         s.logSteps(a.runId, rows, probes);
         if (b === 4) console.log('go');
       }`,
      { root, runId: run.id, batch: BATCH, width: WIDTH },
    );
    await child.waitFor('go');
    await sleep(10 + Math.random() * 40);
    child.kill('SIGKILL');
    const e = await child.exit;
    assert.equal(e.signal, 'SIGKILL', e.stderr);

    const s = openStore(root);
    try {
      assert.deepEqual(s.checkIntegrity(), { ok: true, messages: ['ok'] });
      const steps = s.getSteps(run.id);
      const n = steps.length;
      assert.ok(n >= 5 * BATCH, `at least the reported batches survived (${n})`);
      assert.equal(n % BATCH, 0, 'only whole batches');
      steps.forEach((x, i) => assert.equal(x.step, i + 1, 'contiguous prefix'));
      assert.ok(Number.isNaN(steps[6].loss));
      const p = s.getProbes(run.id);
      assert.equal(p.steps.length, n);
      assert.ok(p.values.every((v, i) => v.length === WIDTH && v.every((x) => x === p.steps[i])));
      const r = s.getRun(run.id);
      assert.equal(r?.stepsDone, n, 'run row updated in the same transaction');
      assert.equal(r?.firstNanStep, 7);
      assert.equal(r?.status, 'running');
      // The writer is gone, so the run can be recognised as interrupted.
      assert.deepEqual(
        s.interruptStaleRuns().map((x) => x.id),
        [run.id],
      );
    } finally {
      s.close();
    }
  });
});
