// Naming a run on the command line: the folder `train --out` prints is accepted as it is by
// replay, resume and report from any working directory; replay leaves only its report; a run
// that failed before its first step does not hold on to its name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openStore } from '../src/store/index.js';
import { tmp } from './helpers.js';

const REPO = resolve(import.meta.dirname, '..');
// Absolute loader and entry point, so the CLI can run from any directory.
const cliIn = (cwd: string, args: string[]) => spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(REPO, 'src/cli/main.ts'), ...args],
  { cwd, encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'passive' } });
const DIVERGES = ['--model', 'lenet', '--activation', 'relu', '--lr', '1', '--init', 'normal:1', '--limit-train', '1000', '--limit-test', '100',
  '--batch-size', '50', '--epochs', '1', '--threads', '1', '--quiet'];

test('the run folder train prints is accepted by replay, resume and report from another directory; replay writes only its report', () => {
  const home = tmp();
  const elsewhere = tmp();
  const t = cliIn(home, ['train', ...DIVERGES, '--out', 'exp/run1']);
  assert.equal(t.status, 3, t.stderr);
  const printed = /run run1 -> (\S+)/.exec(t.stderr)?.[1];
  assert.ok(printed, t.stderr);
  assert.equal(printed, join(home, 'exp', 'run1'));

  const r = cliIn(elsewhere, ['replay', printed]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /reproduced: same pass, layer and op/);
  const store = openStore(join(home, 'exp'));
  try {
    const [rep] = store.listRuns({ parentId: 'run1' });
    assert.equal(rep.kind, 'replay');
    assert.deepEqual(readdirSync(store.runDir(rep.id)), ['report.json'], 'replay writes only its report');
    assert.deepEqual(store.getArtifacts(rep.id), []);
  } finally {
    store.close();
  }

  const rel = cliIn(join(home, 'exp'), ['replay', './run1', '--json']);
  assert.equal(rel.status, 0, rel.stderr);
  const rep = cliIn(elsewhere, ['report', printed, '--out', join(elsewhere, 'r.html')]);
  assert.equal(rep.status, 0, rep.stderr);
  assert.ok(existsSync(join(elsewhere, 'r.html')));
  const res = cliIn(elsewhere, ['resume', printed, '--fix', 'clip=1', '--max-steps', '6', '--quiet']);
  assert.ok(res.status === 0 || res.status === 3, res.stdout + res.stderr);
  assert.match(res.stdout, /fix (did not hold|held)/);
  assert.match(res.stderr, /continuing from .*exp\/run1\/last-good\.st/);

  const notRun = cliIn(elsewhere, ['replay', join(elsewhere, 'nothing', 'here')]);
  assert.equal(notRun.status, 2);
  assert.match(notRun.stderr, /is not a run folder/);
});

test('a run that failed before its first step does not block reusing its name', () => {
  const home = tmp();
  // What a run that died before training leaves (e.g. the engine failed to build the model):
  // a row marked failed with no steps and an empty folder.
  const s = openStore(join(home, 'exp'));
  const run = s.createRun({ id: 'run2', name: 'run2', kind: 'train', config: {} });
  mkdirSync(s.runDir(run.id), { recursive: true });
  s.setStatus(run.id, 'failed', { error: 'native addon missing' });
  // A run that did train keeps its name.
  const kept = s.createRun({ id: 'run3', name: 'run3', kind: 'train', config: {} });
  s.logSteps(kept.id, [{ step: 1, epoch: 0, batch: 0, loss: 2.3, lr: 0.1, gradNorm: 1, timeMs: 1 }]);
  s.setStatus(kept.id, 'failed', { error: 'crashed at step 2' });
  s.close();
  const again = cliIn(home, ['train', '--model', 'lenet', '--limit-train', '100', '--limit-test', '10', '--max-steps', '1', '--threads', '1', '--quiet', '--out', 'exp/run2']);
  assert.equal(again.status, 0, again.stderr);
  const taken = cliIn(home, ['train', '--model', 'lenet', '--limit-train', '100', '--limit-test', '10', '--max-steps', '1', '--threads', '1', '--quiet', '--out', 'exp/run3']);
  assert.notEqual(taken.status, 0);
  assert.match(taken.stderr, /run3 already exists/);
  const after = openStore(join(home, 'exp'));
  try {
    assert.equal(after.getRun('run2')?.status, 'finished');
    assert.equal(after.getRun('run3')?.status, 'failed');
  } finally {
    after.close();
  }
});
