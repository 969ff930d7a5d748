// nanscope doctor on real short runs: a ReLU LeNet at lr 10 goes non-finite; the doctor tries
// two fixes in parallel worker processes, records each as a child run, prints and stores the
// table, recommends the fix that held, and re-ranks the run's fixes by that evidence. A run
// that learns gets a clean "nothing to fix"; a missing run is a usage error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp, CLI } from './helpers.js';
import { openStore } from '../src/store/index.js';
import { candidates, fixCost, recommend, recommendation, toRow } from '../src/diagnose/index.js';

const cli = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', timeout: 240_000 });
const LENET = ['--model', 'lenet', '--activation', 'relu', '--batch-size', '256', '--limit-train', '4096', '--max-steps', '16', '--threads', '1', '--no-eval', '--quiet'];

test('doctor: trials in worker processes, child runs, stored table, recommendation, re-ranked fixes', () => {
  const dir = tmp();
  const t = cli(['train', ...LENET, '--lr', '10', '--out', join(dir, 'bad')]);
  assert.equal(t.status, 3, t.stderr);
  const d = cli(['doctor', 'bad', '--runs-dir', dir, '--horizon', '6', '--fix', 'lr=0.1', '--fix', 'bn=builtin+lr=0.1', '--workers', '2']);
  assert.equal(d.status, 0, d.stdout + d.stderr);
  assert.match(d.stdout, /fix \| held or first non-finite step \| loss @\d+ \| acc @\d+ \| verdict/);
  // lr=0.1 continues from the state before the bad step, where the weights are already huge
  // (measured here: non-finite again at once); BN restarts from the seed and holds.
  assert.match(d.stdout, /^lr=0\.1 \| (held|NaN\/Inf at step \d+) \|/m);
  assert.match(d.stdout, /^bn=builtin\+lr=0\.1 \| held \|/m);
  assert.match(d.stdout, /recommended: --fix (bn=builtin --fix )?lr=0\.1 \(the cheapest fix that held/);
  const store = openStore(dir);
  try {
    const kids = store.listRuns({ parentId: 'bad' });
    assert.equal(kids.length, 2);
    const bad = store.getRun('bad')!;
    const ev = store.getEvents('bad', 'doctor');
    assert.equal(ev.length, 1);
    const payload = ev[0].payload as { rows: { fix: string; held: boolean }[]; trials: string[]; best: string; endStep: number };
    assert.deepEqual(payload.trials.sort(), kids.map((k) => k.id).sort());
    const lrHeld = payload.rows.find((r) => r.fix === 'lr=0.1')!.held;
    const best = lrHeld ? 'lr=0.1' : 'bn=builtin+lr=0.1';
    assert.equal(payload.best, best);
    // Trials end `horizon` steps past the state before the bad step.
    const badStep = (bad.report as { step: number }).step;
    assert.equal(payload.endStep, badStep - 1 + 6);
    for (const k of kids.filter((x) => x.status !== 'diverged')) assert.equal(store.getSteps(k.id).at(-1)?.step, payload.endStep, k.name);
    const fixes = (bad.verdict as { fixes: { fix: string; evidence?: { en: string } }[] }).fixes;
    assert.equal(fixes[0].fix, best);
    assert.match(fixes[0].evidence!.en, /doctor: held/);
    assert.ok(existsSync(join(dir, 'bad', 'doctor.json')));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'bad', 'doctor.json'), 'utf8')).best, best);
  } finally {
    store.close();
  }
});

test('doctor: a run that learns has nothing to fix; a missing run is a usage error', () => {
  const dir = tmp();
  const t = cli(['train', ...LENET, '--lr', '0.3', '--max-steps', '30', '--limit-train', '7680', '--out', join(dir, 'ok')]);
  assert.equal(t.status, 0, t.stderr);
  const d = cli(['doctor', 'ok', '--runs-dir', dir]);
  assert.equal(d.status, 0, d.stderr);
  assert.match(d.stdout, /nothing to fix: run ok never went non-finite and its verdict is healthy/);
  const store = openStore(dir);
  try { assert.equal(store.listRuns({ parentId: 'ok' }).length, 0); } finally { store.close(); }
  const missing = cli(['doctor', 'nope', '--runs-dir', dir]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no run 'nope'/);
});

test('doctor policy: singles then pairs of different knobs; cheapest held fix with a healthy verdict wins', () => {
  const sets = candidates([{ fix: 'scale-pixels' }, { fix: 'lr=0.01' }, { fix: 'bn=builtin' }, { fix: 'clip=1' }]);
  assert.deepEqual(sets.map((s) => s.join('+')), ['scale-pixels', 'lr=0.01', 'bn=builtin', 'clip=1', 'scale-pixels+lr=0.01', 'scale-pixels+bn=builtin', 'lr=0.01+bn=builtin']);
  assert.ok(fixCost('lr=0.01') < fixCost('bn=builtin'));
  const rows = [
    toRow({ fix: 'lr=0.01', status: 'diverged', firstNonFiniteStep: 9, loss: NaN, acc: NaN, verdict: 'non-finite' }),
    toRow({ fix: 'scale-pixels', status: 'finished', firstNonFiniteStep: null, loss: 2.3, acc: 0.1, verdict: 'stuck' }),
    toRow({ fix: 'bn=builtin', status: 'finished', firstNonFiniteStep: null, loss: 1.1, acc: 0.6, verdict: 'healthy' }),
    toRow({ fix: 'clip=1', status: 'finished', firstNonFiniteStep: null, loss: 40, acc: 0.1, verdict: 'exploding' }),
  ];
  assert.deepEqual(rows.map((r) => r.held), [false, true, true, false]);
  assert.equal(recommend(rows)?.fix, 'bn=builtin');
  assert.equal(recommend(rows.filter((r) => r.fix !== 'bn=builtin'))?.fix, 'scale-pixels');
  assert.equal(recommend([rows[0]]), null);
  // A healthy pick is recommended plainly; a pick that only stayed finite says it has not learned yet.
  const cure = recommendation(recommend(rows), 30, 40);
  assert.match(cure.en, /^recommended: --fix bn=builtin \(the cheapest fix that held: healthy, loss 1\.100, accuracy 0\.600 at step 40\)\.$/);
  const finite = recommendation(recommend(rows.filter((r) => r.fix !== 'bn=builtin')), 30, 40);
  assert.match(finite.en, /--fix scale-pixels .* No trial was healthy by step 40: this one stayed finite but is stuck; a longer --horizon/);
  assert.match(finite.zh, /到第 40 步没有一个试验是健康的.*stuck/);
  assert.match(recommendation(null, 30, 40).en, /^no fix held within 30 steps/);
  const wobbly = recommendation({ ...rows[1], verdict: 'oscillating' }, 30, 40);
  assert.match(wobbly.en, /is oscillating; a longer --horizon shows whether it settles\.$/);
  assert.match(wobbly.zh, /它是否稳定下来/);
});
