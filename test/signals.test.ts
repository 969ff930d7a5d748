// Every long command stops the same way on SIGINT, SIGTERM and SIGHUP (a closed terminal):
// after the current step, with a checkpoint and a status, exit 130. A closed stdout never kills
// a command. A process killed with -9 (a run or a whole sweep) is seen as gone by the CLI and by
// the dashboard server alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { openStore, writerState } from '../src/store/index.js';
import { startServer } from '../src/server/index.js';
import { tmp, CLI, waitForSteps } from './helpers.js';

const ENV = { ...process.env, OMP_WAIT_POLICY: 'passive' };
const LENET = ['--model', 'lenet', '--batch-size', '50', '--limit-train', '500', '--limit-test', '100', '--threads', '1', '--quiet'];
const FOREVER = [...LENET, '--epochs', '100000'];

function start(args: string[], stdout: 'ignore' | 'pipe' = 'ignore'): ChildProcess & { done: Promise<number | null>; err: () => string } {
  const ch = spawn(process.execPath, [...CLI, ...args], { env: ENV, stdio: ['ignore', stdout, 'pipe'] });
  let err = '';
  ch.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const done = new Promise<number | null>((res) => ch.on('close', (code) => res(code)));
  return Object.assign(ch, { done, err: () => err });
}

function checkpointReasons(root: string, id: string): string[] {
  const s = openStore(root);
  try { return s.getEvents(id, 'checkpoint').map((e) => (e.payload as { reason: string }).reason); } finally { s.close(); }
}
const statusOf = (root: string, id: string): string => { const s = openStore(root); try { return s.getRun(id)!.status; } finally { s.close(); } };

test('SIGHUP stops train and SIGTERM stops resume after the step, with a checkpoint (exit 130)', async () => {
  const root = tmp();
  const t = start(['train', ...FOREVER, '--out', join(root, 'hup')]);
  await waitForSteps(root, 'hup', 10, t);
  t.kill('SIGHUP');
  assert.equal(await t.done, 130, t.err());
  assert.equal(statusOf(root, 'hup'), 'stopped');
  assert.ok(checkpointReasons(root, 'hup').includes('sigint'), 'checkpoint saved on the way out');
  const steps = openStore(root);
  const reached = steps.latestStep('hup')!;
  steps.close();

  const r = start(['resume', 'hup', '--runs-dir', root, '--quiet']);
  await waitForSteps(root, 'hup', reached + 10, r);
  r.kill('SIGTERM');
  assert.equal(await r.done, 130, r.err());
  assert.equal(statusOf(root, 'hup'), 'stopped');
  assert.equal(checkpointReasons(root, 'hup').filter((x) => x === 'sigint').length, 2, 'resume saved its own checkpoint');
});

test('doctor stops on SIGHUP: no new trial, the running ones stop after their step (exit 130)', async () => {
  const root = tmp();
  const t = start(['train', ...LENET, '--epochs', '1', '--max-steps', '3', '--out', join(root, 'base')]);
  assert.equal(await t.done, 0, t.err());
  const d = start(['doctor', 'base', '--runs-dir', root, '--fix', 'lr=0.1', '--fix', 'lr=0.2', '--fix', 'lr=0.3', '--workers', '1', '--horizon', '1000000']);
  for (;;) {
    if (d.exitCode !== null) throw new Error(`doctor ended early: ${d.err()}`);
    const s = openStore(root);
    const trial = s.listRuns({ parentId: 'base', status: 'running' }).find((r) => r.pid !== null); // launched
    const steps = trial ? s.latestStep(trial.id) ?? 0 : 0;
    s.close();
    if (steps >= 5) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  d.kill('SIGHUP');
  assert.equal(await d.done, 130, d.err());
  const s = openStore(root);
  try {
    const trials = s.listRuns({ parentId: 'base' });
    assert.deepEqual(trials.map((r) => r.status), ['stopped'], 'the running trial stopped; the two never launched left nothing behind');
    assert.ok(s.getEvents(trials[0].id, 'checkpoint').some((e) => (e.payload as { reason: string }).reason === 'sigint'), 'it saved a checkpoint');
  } finally { s.close(); }
});

test('a closed stdout does not kill train or runs', async () => {
  const root = tmp();
  const t = start(['train', ...LENET, '--epochs', '1', '--out', join(root, 'pipe')], 'pipe');
  t.stdout!.destroy(); // the reader is gone before the first line (like `| head -0`)
  assert.equal(await t.done, 0, t.err());
  assert.doesNotMatch(t.err(), /EPIPE|    at /);
  assert.equal(statusOf(root, 'pipe'), 'finished');
  const r = start(['runs', '--runs-dir', root], 'pipe');
  r.stdout!.destroy();
  assert.equal(await r.done, 0, r.err());
  assert.doesNotMatch(r.err(), /EPIPE|    at /);
});

test('kill -9 of a run or a sweep: the dashboard server sees them as gone; SIGHUP stops a sweep', async () => {
  const root = tmp();
  const GRID = ['sweep', ...FOREVER.filter((a) => a !== '--quiet'), '--grid', 'seed=1', '--runs-dir', root];
  const cellOf = (): { id: string; pid: number } | null => {
    const s = openStore(root);
    try { const c = s.listRuns({ kind: 'sweep-cell', status: 'running' })[0]; return c && s.latestStep(c.id) ? { id: c.id, pid: c.pid! } : null; } finally { s.close(); }
  };
  const waitCell = async (ch: ReturnType<typeof start>): Promise<{ id: string; pid: number }> => {
    for (;;) {
      if (ch.exitCode !== null) throw new Error(`sweep ended early: ${ch.err()}`);
      const c = cellOf();
      if (c) return c;
      await new Promise((res) => setTimeout(res, 50));
    }
  };
  // SIGHUP: the sweep asks its cells to stop, records interrupted, exits 130.
  const hup = start(GRID);
  const cell = await waitCell(hup);
  hup.kill('SIGHUP');
  assert.equal(await hup.done, 130, hup.err());
  const s = openStore(root);
  const sweep = s.listSweeps()[0];
  assert.equal(sweep.status, 'interrupted');
  assert.equal(s.getRun(cell.id)!.status, 'stopped');
  s.close();

  // kill -9 of the sweep and its cell: both stay 'running' in the database ...
  const again = start(['sweep', '--resume', sweep.id, '--runs-dir', root]);
  const cell2 = await waitCell(again);
  again.kill('SIGKILL');
  process.kill(cell2.pid, 'SIGKILL');
  await again.done;
  // The cell is the sweep's child, not ours: SIGKILL is delivered, but its teardown (a libtorch
  // process) may not be over when the server looks. Wait until the OS says it is gone.
  for (let i = 0; writerState({ pid: cell2.pid, host: null, pidStart: null }) !== 'dead'; i++) {
    assert.ok(i < 200, `cell process ${cell2.pid} still alive 10 s after SIGKILL`);
    await new Promise((res) => setTimeout(res, 50));
  }
  const s2 = openStore(root);
  assert.equal(s2.getSweep(sweep.id)!.status, 'running');
  assert.equal(s2.getRun(cell2.id)!.status, 'running');
  s2.close();
  // ... until the dashboard server looks: the same liveness check as the CLI.
  const server = await startServer({ runsRoot: root, port: 0, log: () => {} });
  try {
    const runs = await (await fetch(`${server.url}api/runs/${cell2.id}`)).json() as { run: { status: string } };
    assert.equal(runs.run.status, 'interrupted');
    const sweeps = await (await fetch(`${server.url}api/sweeps`)).json() as { sweeps: { id: string; status: string }[] };
    assert.equal(sweeps.sweeps.find((x) => x.id === sweep.id)!.status, 'interrupted');
  } finally {
    await server.close();
  }
});
