// Nothing a user types destroys their runs (issue 18). Real tiny LeNet runs in a real runs
// folder; then the ordinary mistakes that used to destroy data are made on purpose, one after
// another: after each, the store passes PRAGMA integrity_check, every earlier run still opens,
// replays and reports, and nothing outside the runs folder changed.
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, type RunRow } from '../src/store/index.js';
import { writeReport } from '../src/report/index.js';
import { startServer } from '../src/server/index.js';
import { tmp, CLI, waitForSteps } from './helpers.js';

const ENV = { ...process.env, OMP_WAIT_POLICY: 'passive' };
const cli = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: ENV, timeout: 120_000 });
const LENET = ['--model', 'lenet', '--batch-size', '50', '--limit-train', '500', '--limit-test', '100', '--threads', '1', '--quiet'];
// N(0, 1) weights at lr 1 blow up within the first epoch (ReLU LeNet; see sweep.test.ts).
const DIVERGES = [...LENET, '--activation', 'relu', '--init', 'normal:1', '--lr', '1', '--seed', '0', '--epochs', '1'];

function spawnCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res) => {
    const ch = spawn(process.execPath, [...CLI, ...args], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    ch.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    ch.on('close', (code) => res({ code, stderr }));
  });
}

/** sha256 of every file under dir, skipping `skip` (relative paths). */
function snapshot(dir: string, skip: string[] = []): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (skip.some((s) => rel === s || rel.startsWith(`${s}/`))) continue;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.set(rel, createHash('sha256').update(readFileSync(p)).digest('hex'));
      else out.set(rel, e.isSymbolicLink() ? 'symlink' : e.isFIFO() ? 'fifo' : 'other');
    }
  };
  walk(dir);
  return out;
}

const rowOf = (root: string, id: string): RunRow => {
  const s = openStore(root);
  try { return s.getRun(id)!; } finally { s.close(); }
};

describe('faults a user can type, one after another: nothing is lost', () => {
  const work = tmp('nanscope-safety-');
  const runs = join(work, 'runs');
  const outside = join(work, 'outside');
  const reports = tmp('nanscope-safety-reports-');
  let outsideBefore: Map<string, string>;
  const earlier = new Map<string, RunRow>();
  let live: ChildProcess | null = null;

  before(async () => {
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'notes.txt'), 'my notes\n');
    writeFileSync(join(outside, 'victim.txt'), 'not a report\n');
    writeFileSync(join(outside, 'loss.png'), 'not a plot\n');
    symlinkSync(join(outside, 'victim.txt'), join(outside, 'link.html'));
    execFileSync('mkfifo', [join(outside, 'pipe')]);
    const [div, fin] = await Promise.all([
      spawnCli(['train', ...DIVERGES, '--out', join(runs, 'div')]),
      spawnCli(['train', ...LENET, '--epochs', '1', '--seed', '1', '--out', join(runs, 'fin')]),
    ]);
    assert.equal(div.code, 3, div.stderr);
    assert.equal(fin.code, 0, fin.stderr);
    for (const id of ['div', 'fin']) earlier.set(id, rowOf(runs, id));
    outsideBefore = snapshot(work, ['runs']);
  });

  after(() => { live?.kill('SIGKILL'); });

  /** The store is sound, the earlier runs are as they were, replay and report, and nothing outside changed. */
  async function intact(label: string): Promise<void> {
    const s = openStore(runs);
    try {
      const ic = s.checkIntegrity();
      assert.ok(ic.ok, `${label}: integrity_check: ${ic.messages.join('; ')}`);
      for (const [id, row] of earlier) assert.deepEqual(s.getRun(id), row, `${label}: run ${id} unchanged`);
    } finally { s.close(); }
    const r = cli(['replay', 'div', '--runs-dir', runs]);
    assert.equal(r.status, 0, `${label}: replay: ${r.stderr}`);
    assert.match(r.stdout, /reproduced: same pass, layer and op/, label);
    for (const id of earlier.keys()) await writeReport({ runsRoot: runs, runId: id, out: join(reports, `${id}.html`) });
    assert.deepEqual(snapshot(work, ['runs']), outsideBefore, `${label}: nothing outside the runs folder changed`);
  }

  test('1. report --out never replaces the store, a run file, a pipe, a symlink or a non-report', async () => {
    const verdictBefore = readFileSync(join(runs, 'fin', 'verdict.json'));
    for (const [out, why] of [
      [join(runs, 'nanscope.db'), /run store's database/],
      [join(runs, 'div', 'last-good.st'), /a run's own file/],
      [join(runs, '..', 'runs', 'fin', 'verdict.json'), /a run's own file/],
      [join(outside, 'pipe'), /not a plain file/],
      [join(outside, 'link.html'), /symlink/],
      [join(outside, 'victim.txt'), /pass --force/],
    ] as const) {
      const r = cli(['report', 'fin', '--runs-dir', runs, '--out', out]);
      assert.equal(r.status, 2, `--out ${out}: exit ${r.status}: ${r.stderr}`);
      assert.match(r.stderr, why);
    }
    // --png: a plot replaces only an earlier plot, and is refused before the HTML is written.
    const png = cli(['report', 'fin', '--runs-dir', runs, '--out', join(reports, 'with-png.html'), '--png', outside]);
    assert.equal(png.status, 2, png.stderr);
    assert.match(png.stderr, /--png .*loss\.png: exists and is not a PNG plot/);
    assert.ok(!existsSync(join(reports, 'with-png.html')), 'nothing written');
    assert.deepEqual(readFileSync(join(runs, 'fin', 'verdict.json')), verdictBefore);
    // A previous report is replaced without --force; --force never reaches the store's files.
    const prev = join(reports, 'again.html');
    assert.equal(cli(['report', 'fin', '--runs-dir', runs, '--out', prev]).status, 0);
    assert.equal(cli(['report', 'div', '--runs-dir', runs, '--out', prev]).status, 0);
    assert.equal(cli(['report', 'fin', '--runs-dir', runs, '--out', join(runs, 'nanscope.db'), '--force']).status, 2);
    await intact('report --out');
  });

  test('2. resume of a run that is still training is refused (exit 2) and the live run is untouched', async () => {
    live = spawn(process.execPath, [...CLI, 'train', ...LENET, '--epochs', '100000', '--seed', '2', '--out', join(runs, 'live')], { env: ENV, stdio: 'ignore' });
    await waitForSteps(runs, 'live', 20, live);
    const before = rowOf(runs, 'live');
    const r = cli(['resume', 'live', '--runs-dir', runs]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /still being written by process \d+/);
    const s = openStore(runs);
    try {
      const now = s.getRun('live')!;
      assert.equal(now.status, 'running');
      assert.equal(now.pid, before.pid);
      assert.ok((s.latestStep('live') ?? 0) >= before.stepsDone, 'no step of the live run was deleted');
    } finally { s.close(); }
    live.kill('SIGTERM'); // stops after this step with a checkpoint, like Ctrl-C
    const code = await new Promise((res) => live!.once('exit', (c) => res(c)));
    live = null;
    assert.equal(code, 130);
    const stopped = rowOf(runs, 'live');
    assert.equal(stopped.status, 'stopped');
    const steps = openStore(runs);
    try { assert.deepEqual(steps.getSteps('live').map((x) => x.step), Array.from({ length: stopped.stepsDone }, (_, i) => i + 1)); } finally { steps.close(); }
    await intact('resume of a live run');
    earlier.set('live', stopped);
  });

  test('3. invalid flags given to resume are refused before anything is written', async () => {
    for (const flags of [['--max-steps', '0'], ['--max-steps', '-3'], ['--epochs', '-1']]) {
      const r = cli(['resume', 'fin', '--runs-dir', runs, ...flags]);
      assert.equal(r.status, 2, `${flags.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(flags[0]));
    }
    await intact('resume with bad flags');
  });

  test('4. resume of a finished run with nothing left to do changes nothing', async () => {
    const verdict = readFileSync(join(runs, 'fin', 'verdict.json'));
    const r = cli(['resume', 'fin', '--runs-dir', runs]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /nothing to do/);
    assert.deepEqual(readFileSync(join(runs, 'fin', 'verdict.json')), verdict);
    await intact('resume with nothing to do');
  });

  test('5. a failed resume records failed with its message and keeps the config it had', async () => {
    const before = rowOf(runs, 'live');
    earlier.delete('live'); // this one is meant to change
    // The write of verdict.json at the end fails (a folder is in its place), after training.
    rmSync(join(runs, 'live', 'verdict.json'), { force: true });
    mkdirSync(join(runs, 'live', 'verdict.json', 'x'), { recursive: true });
    const r = cli(['resume', 'live', '--runs-dir', runs, '--max-steps', String(before.stepsDone + 3)]);
    assert.equal(r.status, 1, r.stderr);
    rmSync(join(runs, 'live', 'verdict.json'), { recursive: true });
    const after = rowOf(runs, 'live');
    assert.equal(after.status, 'failed');
    assert.match(after.error ?? '', /resume failed: .*verdict\.json/);
    assert.deepEqual(after.config, before.config, 'the config from before the failed resume');
    await intact('failed resume');
    // The run can still be resumed afterwards.
    const again = cli(['resume', 'live', '--runs-dir', runs, '--max-steps', String(before.stepsDone + 6)]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(rowOf(runs, 'live').status, 'finished');
  });
});

describe('paths read back from the store are checked before use', () => {
  function storeWithRun(): { root: string; outside: string; id: string } {
    const base = tmp('nanscope-paths-');
    const root = join(base, 'runs');
    const outside = join(base, 'precious');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'keep.txt'), 'keep me');
    const s = openStore(root);
    const id = s.createRun({ name: 'x', status: 'failed' }).id;
    s.runDir(id);
    s.close();
    return { root, outside, id };
  }
  const setDir = (root: string, id: string, dir: string): void => {
    const db = new Database(join(root, 'nanscope.db'));
    db.prepare('UPDATE runs SET dir = ? WHERE id = ?').run(dir, id);
    db.close();
  };

  test('a dir edited to point outside, a symlinked run folder, or the database: never deleted, never used', () => {
    for (const kind of ['relative', 'absolute', 'symlink', 'database']) {
      const { root, outside, id } = storeWithRun();
      if (kind === 'relative') setDir(root, id, '../precious');
      if (kind === 'absolute') setDir(root, id, outside);
      if (kind === 'database') setDir(root, id, 'nanscope.db');
      if (kind === 'symlink') { rmSync(join(root, id), { recursive: true }); symlinkSync(outside, join(root, id)); }
      const s = openStore(root);
      try {
        assert.throws(() => s.runDir(id), /refusing to use it/, kind);
        assert.throws(() => s.deleteRun(id, { removeFiles: true }), /refusing to use it/, kind);
        assert.ok(s.getRun(id), `${kind}: the row is kept too`);
        assert.ok(s.checkIntegrity().ok);
      } finally { s.close(); }
      assert.equal(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'keep me', kind);
    }
  });

  test('sweep --resume does not delete a folder outside the runs folder', () => {
    const { root, outside } = storeWithRun();
    const s = openStore(root);
    const plan = { axes: [{ key: 'seed', values: ['0'] }], fixed: ['--model', 'lenet', '--limit-train', '100', '--limit-test', '100', '--epochs', '1', '--batch-size', '50', '--threads', '1'], threads: 1 };
    const sweep = s.createSweep({ name: 'p', grid: plan });
    s.setSweepStatus(sweep.id, 'interrupted');
    const cell = s.claimCell(sweep.id, 'seed=0', { name: 'cell', kind: 'sweep-cell', status: 'failed' }).run;
    s.close();
    setDir(root, cell.id, '../precious');
    const r = cli(['sweep', '--resume', sweep.id, '--runs-dir', root]);
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stderr, /refusing to use it/);
    assert.ok(statSync(outside).isDirectory());
    assert.equal(readFileSync(join(outside, 'keep.txt'), 'utf8'), 'keep me');
  });

  test('the files endpoint does not serve outside the runs folder', async () => {
    const { root, id } = storeWithRun();
    setDir(root, id, '/etc');
    const server = await startServer({ runsRoot: root, port: 0, log: () => {} });
    try {
      const res = await fetch(`${server.url}api/runs/${id}/files/passwd`);
      assert.equal(res.status, 403);
      assert.doesNotMatch(await res.text(), /root:/);
    } finally {
      await server.close();
    }
    assert.ok(existsSync(join(root, 'nanscope.db')));
  });
});
