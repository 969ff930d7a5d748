// Sweeps through Redis (BullMQ): a private redis-server, real `nanscope worker` processes, real
// LeNet cells on Fashion-MNIST. One worker is killed with -9 while it holds a cell; every cell
// must still be recorded exactly once, with the same outcome table as the local runner, and
// nothing left in Redis. A cell delivered twice (a simulated stall, then a redelivered finished
// job) must be recorded once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { openStore, fromJson, type RunBundle } from '../src/store/index.js';
import { CELL_QUEUE, SWEEP_QUEUE, cellJobId } from '../src/queue/jobs.js';
import { SweepQueue, followSweep } from '../src/queue/coordinator.js';
import { CLI, tmp } from './helpers.js';
import { startRedis, freePort } from './redis-support.js';

const ENV = { ...process.env, OMP_WAIT_POLICY: 'passive' };
// LeNet with ReLU at lr 0.5 on 1000 images, one epoch of 20 steps: xavier trains, N(0, 1) weights
// go NaN within 5 steps (measured); both kinds must come back through the queue the same.
const FIXED = ['--model', 'lenet', '--activation', 'relu', '--batch-size', '50', '--limit-train', '1000', '--limit-test', '200', '--epochs', '1', '--lr', '0.5', '--threads', '1'];
const GRID = ['--grid', 'init=xavier,normal:1', '--grid', 'seed=0,1,2'];
const N = 6;

let redis: Awaited<ReturnType<typeof startRedis>>;
const procs = new Set<ChildProcess>();
before(async () => { redis = await startRedis(); });
after(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await redis.stop();
});

/** A CLI process whose output is kept; waitFor resolves once its output matches (or it exits). */
function start(args: string[]) {
  const proc = spawn(process.execPath, [...CLI, ...args], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.add(proc);
  let out = '', err = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { err += d; });
  const exited = new Promise<number | null>((res) => proc.on('close', (code) => res(code)));
  const waitFor = async (re: RegExp, what: string): Promise<RegExpExecArray> => {
    // The limit only turns a hang into a failure; nothing here depends on how fast cells run.
    for (const t0 = Date.now(); Date.now() - t0 < 240_000;) {
      const m = re.exec(err);
      if (m) return m;
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${what}: not seen in ${args[0]}'s output:\n${err}`);
  };
  return { proc, exited, waitFor, out: () => out, err: () => err };
}

const stripRunColumn = (table: string) => table.split('\n').filter((l) => /^init=/.test(l)).map((l) => l.replace(/\s+\S+$/, ''));

async function jobCounts(url: string): Promise<Record<string, number>> {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const out: Record<string, number> = {};
  for (const name of [CELL_QUEUE, SWEEP_QUEUE]) {
    const q = new Queue(name, { connection });
    const c = await q.getJobCounts('active', 'waiting', 'delayed', 'completed', 'failed', 'waiting-children', 'prioritized');
    for (const [k, v] of Object.entries(c)) out[`${name}:${k}`] = v;
    await q.close();
  }
  connection.disconnect();
  return out;
}

test('a LeNet grid through two workers, one killed with -9 holding a cell: every cell recorded once, same table as the local runner, Redis left empty', async () => {
  const root = join(tmp(), 'runs');
  const lock = ['--lock-seconds', '5'];
  const a = start(['worker', '--queue', redis.url, ...lock]);
  const b = start(['worker', '--queue', redis.url, ...lock]);
  await a.waitFor(/cell\(s\) at a time/, 'worker a ready');
  await b.waitFor(/cell\(s\) at a time/, 'worker b ready');
  const sweep = start(['sweep', ...FIXED, ...GRID, '--queue', redis.url, '--runs-dir', root, '--name', 'queued']);
  // The moment worker a reports a cell started, it holds that cell's job lock: kill it there.
  const held = (await a.waitFor(/^(init=\S+) \(sweep .*\): started$/m, 'worker a took a cell'))[1];
  a.proc.kill('SIGKILL');
  assert.equal(await a.exited, null, 'worker a died of SIGKILL');
  const code = await sweep.exited;
  assert.equal(code, 0, `sweep exits 0:\n${sweep.err()}\n${sweep.out()}`);
  // Worker b's stalled-job check handed it the dead worker's cell, which ran again from its start.
  assert.match(b.err(), new RegExp(`^${held.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(sweep .*\\): started$`, 'm'), `worker b ran ${held}:\n${b.err()}`);

  const s = openStore(root);
  try {
    const sw = s.listSweeps()[0];
    assert.equal(sw.status, 'finished');
    const cells = s.listSweepCells(sw.id);
    assert.equal(cells.length, N, 'one run per cell');
    assert.equal(new Set(cells.map((c) => c.cellKey)).size, N, 'no cell twice');
    for (const c of cells) {
      assert.ok(c.status === 'finished' || c.status === 'diverged', `${c.cellKey}: ${c.status}`);
      assert.equal(c.host, hostname(), `${c.cellKey}: recorded with the worker's host`);
      assert.equal(c.pid, null, 'an imported run has no local writer process');
      // The bundle carried the rows: every step up to the last one, an epoch row unless it diverged first.
      assert.equal(s.getSteps(c.id).length, c.stepsDone, `${c.cellKey}: step rows`);
      assert.ok(s.getProbes(c.id).steps.length > 0, `${c.cellKey}: probes imported`);
      if (c.status === 'diverged') assert.ok((c.report as { alias?: string } | null)?.alias, `${c.cellKey}: locator report imported`);
      else {
        assert.equal(s.getEpochs(c.id).length, 1, `${c.cellKey}: epoch row imported`);
        const hs = s.histogramSteps(c.id);
        assert.ok(hs.length > 0, `${c.cellKey}: histograms imported`);
        const h = s.histogramAt(c.id, hs[0])!;
        assert.ok([...h.act].every((v) => Number.isNaN(v) || Number.isInteger(v)), `${c.cellKey}: histogram counts arrive exact`);
      }
      assert.ok(c.verdict, `${c.cellKey}: verdict imported`);
    }
    assert.ok(cells.some((c) => c.status === 'diverged') && cells.some((c) => c.status === 'finished'), 'the grid has both outcomes');
  } finally { s.close(); }

  // The local runner on the same grid and seeds prints the same table (run ids aside).
  const local = spawnSync(process.execPath, [...CLI, 'sweep', ...FIXED, ...GRID, '--workers', '2', '--runs-dir', join(tmp(), 'runs')], { env: ENV, encoding: 'utf8' });
  assert.equal(local.status, 0, local.stderr);
  const queued = stripRunColumn(sweep.out());
  assert.equal(queued.length, N, sweep.out());
  assert.deepEqual(queued, stripRunColumn(local.stdout));

  // Nothing active, waiting or left over in Redis: the coordinator removed the sweep's jobs.
  const counts = await jobCounts(redis.url);
  assert.ok(Object.values(counts).every((v) => v === 0), JSON.stringify(counts));
  b.proc.kill('SIGINT');
  assert.equal(await b.exited, 130);
});

test('a cell delivered twice (a stall, then a finished job redelivered) is recorded once; a bad config fails once, with its message', async () => {
  const root = join(tmp(), 'runs');
  const w = start(['worker', '--queue', redis.url, '--concurrency', '2', '--lock-seconds', '5']);
  await w.waitFor(/cell\(s\) at a time/, 'worker ready');
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const q = new SweepQueue(connection);
  const store = openStore(root);
  try {
    const sweepId = store.createSweep({ name: 'dup', grid: null }).id;
    const cell = { key: 'init=xavier,seed=0', args: [...FIXED, '--init', 'xavier', '--seed', '0'] };
    await q.enqueue(sweepId, [cell]);
    await q.enqueue(sweepId, [cell]); // the same cell again: BullMQ's job-id dedupe keeps one job
    // One read of the counts: two reads race with the worker moving the job from waiting to active.
    const counts = await jobCounts(redis.url);
    assert.equal(counts[`${CELL_QUEUE}:waiting`] + counts[`${CELL_QUEUE}:active`], 1, 'one job per cell');
    // Simulate a stall: while the worker holds the cell, its lock vanishes (as if the worker froze
    // past --lock-seconds); the stalled-job check puts the cell back and the worker runs it again.
    await w.waitFor(/init=xavier,seed=0 \(sweep .*\): started/, 'first delivery');
    const id = cellJobId(sweepId, cell.key);
    await connection.del(`bull:${CELL_QUEUE}:${id}:lock`);
    await w.waitFor(/(init=xavier,seed=0 \(sweep .*\): started[^]*){2}/, 'second delivery after the stall');
    // A config error is the same on every machine: no retry, recorded as failed with the message.
    const bad = { key: 'bn=foo', args: [...FIXED, '--bn', 'foo'] };
    // Whoever can write to Redis can enqueue: a job may not run a model file (code) or pick where it writes.
    const evil = [{ key: 'evil=model', args: [...FIXED, '--model', '/tmp/evil.ts'] }, { key: 'evil=out', args: [...FIXED, '--out=/tmp/x/y'] }];
    await q.enqueue(sweepId, [bad, ...evil]);
    const first = await followSweep(q, store, sweepId, [cell, bad, ...evil], { log: () => {}, stop: { stop: false } });
    assert.deepEqual([first.recorded, first.failed], [4, 3], `the good cell: ${store.findCell(sweepId, cell.key)?.status} ${store.findCell(sweepId, cell.key)?.error}`);
    assert.match(store.findCell(sweepId, 'evil=model')!.error ?? '', /refused by .*workers run zoo models only.*\(after 1 attempt/);
    assert.match(store.findCell(sweepId, 'evil=out')!.error ?? '', /refused by .*--out is not accepted from the queue/);
    const failed = store.findCell(sweepId, bad.key)!;
    assert.equal(failed.status, 'failed');
    assert.match(failed.error ?? '', /unknown --bn 'foo'.*\(after 1 attempt/s);
    const run1 = store.findCell(sweepId, cell.key)!;
    assert.equal(run1.status, 'finished');
    // Redeliver the finished job: it runs a third time and completes with a new bundle.
    const job = (await q.cells.getJob(id))!;
    const bundle1 = fromJson<RunBundle>(job.returnvalue);
    await job.retry('completed');
    for (;;) {
      const j = (await q.cells.getJob(id))!;
      if ((await j.getState()) === 'completed' && j.returnvalue && fromJson<RunBundle>(j.returnvalue).run.id !== bundle1.run.id) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const logs: string[] = [];
    const second = await followSweep(q, store, sweepId, [cell], { log: (s) => logs.push(s), stop: { stop: false } });
    assert.equal(second.recorded, 0, 'a cell already recorded is not followed again');
    // Even when asked to import the second bundle directly, the store keeps the first run only.
    const { importBundle } = await import('../src/store/index.js');
    const again = importBundle(store, sweepId, cell.key, fromJson<RunBundle>((await q.cells.getJob(id))!.returnvalue));
    assert.deepEqual(again, { runId: run1.id, imported: false });
    const cells = store.listSweepCells(sweepId).filter((c) => c.cellKey === cell.key);
    assert.equal(cells.length, 1, 'one run for the cell');
    assert.equal(cells[0].id, run1.id);
    assert.equal(store.getSteps(run1.id).length, run1.stepsDone, 'no step recorded twice');
    assert.equal(store.getEpochs(run1.id).length, 1);
    await q.removeSweep(sweepId);
  } finally {
    store.close();
    await q.close();
    connection.disconnect();
  }
  // --detach enqueues and returns. Ctrl-C at a worker holding a cell finishes that cell first; a
  // later --resume SWEEP_ID --queue imports it (no worker needed any more).
  const detach = (seed: number, more: string[] = []): string => {
    const d = spawnSync(process.execPath, [...CLI, 'sweep', ...FIXED, ...more, '--grid', `seed=${seed}`, '--queue', redis.url, '--detach', '--runs-dir', root], { env: ENV, encoding: 'utf8' });
    assert.equal(d.status, 0, d.stderr);
    const id = /sweep (\S+): 1 cells, 0 already done, 1 enqueued/.exec(d.stderr)?.[1];
    assert.ok(id, d.stderr);
    return id;
  };
  const detached = detach(5);
  await w.waitFor(/seed=5 \(sweep .*\): started/, 'the detached cell started');
  w.proc.kill('SIGINT');
  assert.equal(await w.exited, 130);
  assert.match(w.err(), /seed=5: finished/, 'the cell in hand was finished before the worker stopped');
  const r = spawnSync(process.execPath, [...CLI, 'sweep', '--resume', detached, '--queue', redis.url, '--runs-dir', root], { env: ENV, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^seed=5\s+finished/m);
  const s2 = openStore(root);
  try { assert.equal(s2.findCell(detached, 'seed=5')?.status, 'finished'); } finally { s2.close(); }
  // Ctrl-C twice: the cell in hand is stopped and handed back to the queue, not failed.
  const w2 = start(['worker', '--queue', redis.url, '--lock-seconds', '5']);
  const returned = detach(6, ['--epochs', '50']); // long enough to be held when the Ctrl-Cs come
  await w2.waitFor(/seed=6 \(sweep .*\): started/, 'the second detached cell started');
  w2.proc.kill('SIGINT');
  await w2.waitFor(/taking no more/, 'first Ctrl-C seen');
  w2.proc.kill('SIGINT');
  assert.equal(await w2.exited, 130);
  assert.match(w2.err(), /seed=6: stopped and returned to the queue/);
  const c2 = new Redis(redis.url, { maxRetriesPerRequest: null });
  const q2 = new SweepQueue(c2);
  try {
    const j = await q2.job(returned, 'seed=6');
    assert.ok(j && ['waiting', 'wait', 'delayed', 'prioritized'].includes(j.state), `returned to the queue: ${j?.state}`);
    assert.equal(j.job.attemptsMade, 0, 'handing a cell back costs no attempt');
    await q2.removeSweep(returned);
  } finally {
    await q2.close();
    c2.disconnect();
  }
});

test('an experiment through the queue: the same table as run here, read back from the store', async () => {
  const w = start(['worker', '--queue', redis.url]);
  await w.waitFor(/cell\(s\) at a time/, 'worker ready');
  const small = ['--seeds', '2', '--max-steps', '2', '--limit-train', '640', '--limit-test', '100'];
  const root = join(tmp(), 'runs');
  const queued = spawnSync(process.execPath, [...CLI, 'experiment', 'phenomenon-3', ...small, '--queue', redis.url, '--runs-dir', root], { env: ENV, encoding: 'utf8' });
  assert.match(queued.stderr, /2 cells, 0 already recorded, 2 enqueued on redis:/);
  const local = spawnSync(process.execPath, [...CLI, 'experiment', 'phenomenon-3', ...small, '--runs-dir', join(tmp(), 'runs')], { env: ENV, encoding: 'utf8' });
  assert.equal(queued.status, local.status, queued.stderr);
  const table = (out: string) => out.split('\n').filter((l) => /^(arm|lr \d|epoch|\d\s)/.test(l));
  // The per-cell rows (arm, seed, went non-finite?); the over-seeds summary row below starts with the arm too.
  assert.equal(table(queued.stdout).filter((l) => /^lr \d+\s+\d+\s+(yes|no)\b/.test(l)).length, 2, queued.stdout);
  assert.deepEqual(table(queued.stdout), table(local.stdout));
  const s = openStore(root);
  try {
    const runs = s.listSweepCells(s.listSweeps()[0].id);
    assert.deepEqual(runs.map((r) => [r.kind, r.name, r.host]).sort(), [0, 1].map((i) => ['experiment', `phenomenon-3 lr 1 seed ${i}`, hostname()]));
    s.deleteRun(runs.find((r) => r.name.endsWith('seed 1'))!.id, { removeFiles: true }); // as if its worker's result never came back
  } finally { s.close(); }
  // --resume with --queue enqueues only the cell not recorded, and the table is whole again.
  const s0 = openStore(root);
  const sweepId = s0.listSweeps()[0].id;
  s0.close();
  const resumed = spawnSync(process.execPath, [...CLI, 'experiment', 'phenomenon-3', '--resume', sweepId, '--queue', redis.url, '--runs-dir', root], { env: ENV, encoding: 'utf8' });
  assert.equal(resumed.status, local.status, resumed.stderr);
  assert.match(resumed.stderr, /2 cells, 1 already recorded, 1 enqueued on redis:/);
  assert.deepEqual(table(resumed.stdout), table(local.stdout));
  w.proc.kill('SIGINT');
  assert.equal(await w.exited, 130);
});

test('Redis unreachable: one clear error naming the URL (password masked), exit 1, no sweep created', async () => {
  const root = join(tmp(), 'runs');
  const url = `redis://:s3cret@127.0.0.1:${await freePort()}/0`;
  const r = spawnSync(process.execPath, [...CLI, 'sweep', ...FIXED, ...GRID, '--queue', url, '--runs-dir', root], { env: ENV, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0/);
  assert.doesNotMatch(r.stderr, /s3cret/);
  const w = spawnSync(process.execPath, [...CLI, 'worker', '--queue', url], { env: ENV, encoding: 'utf8' });
  assert.equal(w.status, 1, w.stderr);
  assert.match(w.stderr, /cannot reach Redis at redis:\/\/:\*\*\*@/);
  // Usage errors (exit 2, one line) before anything is reached.
  for (const [args, msg] of [
    [['sweep', ...FIXED, ...GRID, '--queue', 'http://x', '--runs-dir', root], /expected redis:\/\/HOST:PORT/],
    [['sweep', ...FIXED, ...GRID, '--detach', '--runs-dir', root], /--detach needs --queue/],
    [['sweep', ...FIXED, ...GRID, '--queue', url, '--workers', '2', '--runs-dir', root], /start `nanscope worker` processes instead/],
    [['worker', '--queue', url, '--concurrency', '0'], /--concurrency must be at least 1/],
    [['worker'], /give --queue/],
    [['sweep', ...FIXED, '--model', './my-net.ts', '--grid', 'seed=0,1', '--queue', url, '--runs-dir', root], /--queue runs zoo models only/],
  ] as [string[], RegExp][]) {
    const bad = spawnSync(process.execPath, [...CLI, ...args], { env: ENV, encoding: 'utf8' });
    assert.equal(bad.status, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, msg);
    assert.doesNotMatch(bad.stderr, /s3cret/);
  }
  const s = openStore(root);
  try { assert.equal(s.listSweeps().length, 0, 'no sweep was created'); } finally { s.close(); }
});
