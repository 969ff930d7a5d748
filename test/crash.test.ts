// Crash safety on real short runs: kill -9 at random moments, or Ctrl-C, then `resume`; the
// final model must equal (bitwise) an uninterrupted run with the same seed, and the store must
// stay consistent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openStore } from '../src/store/index.js';
import { readCheckpoint } from '../src/train/checkpoint.js';
import { tmp, waitForSteps } from './helpers.js';

const ARGS = ['--model', 'lenet', '--limit-train', '3000', '--limit-test', '200', '--batch-size', '50', '--epochs', '2',
  '--checkpoint-every', '7', '--seed', '11', '--threads', '1', '--quiet'];
const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const env = { ...process.env, OMP_WAIT_POLICY: 'passive' };

function finalWeights(dir: string): Map<string, Float32Array> {
  const c = readCheckpoint(join(dir, 'checkpoint.st'));
  const m = new Map([...c.model].map(([k, t]) => [k, t.toFloat32Array()]));
  for (const t of [...c.model.values(), ...c.optim.values(), c.rng]) t.dispose();
  assert.equal(c.meta.next.epoch, 2, 'the final checkpoint is at the end of training');
  return m;
}

function sameWeights(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, v] of a) assert.ok(Buffer.from(v.buffer).equals(Buffer.from(b.get(k)!.buffer)), `weights ${k} differ`);
}

test('kill -9 at random moments, then resume: same final model as an uninterrupted run', async () => {
  const refRoot = tmp();
  const ref = spawnSync(process.execPath, [...CLI, 'train', ...ARGS, '--out', join(refRoot, 'ref')], { env, encoding: 'utf8' });
  assert.equal(ref.status, 0, ref.stderr);
  const expected = finalWeights(join(refRoot, 'ref'));

  const root = tmp();
  const id = 'crashy';
  let child = spawn(process.execPath, [...CLI, 'train', ...ARGS, '--out', join(root, id)], { env, stdio: 'ignore' });
  // Three kills at random points in the 120 steps, each followed by a resume.
  for (const at of [5 + Math.floor(Math.random() * 20), 45 + Math.floor(Math.random() * 20), 85 + Math.floor(Math.random() * 20)]) {
    await waitForSteps(root, id, at, child);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const s = openStore(root);
    assert.ok(s.checkIntegrity().ok, 'database consistent after kill -9');
    const reached = s.latestStep(id)!;
    s.close();
    // At most one checkpoint interval (7 steps) is lost.
    const c = readCheckpoint(join(root, id, 'checkpoint.st'));
    for (const t of [...c.model.values(), ...c.optim.values(), c.rng]) t.dispose();
    assert.ok(c.meta.step >= reached - 7 && c.meta.step <= reached, `checkpoint at ${c.meta.step}, run reached ${reached}`);
    child = spawn(process.execPath, [...CLI, 'resume', id, '--runs-dir', root, '--quiet'], { env, stdio: 'ignore' });
  }
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 0);
  sameWeights(finalWeights(join(root, id)), expected);
  const s = openStore(root);
  const run = s.getRun(id)!;
  assert.equal(run.status, 'finished');
  const steps = s.getSteps(id).map((r) => r.step);
  assert.deepEqual(steps, Array.from({ length: 120 }, (_, i) => i + 1), 'every step recorded once, in order');
  assert.equal(s.getEpochs(id).length, 2);
  s.close();
});

test('Ctrl-C saves a checkpoint and exits 130; resume finishes with the same model', async () => {
  const refRoot = tmp();
  const ref = spawnSync(process.execPath, [...CLI, 'train', ...ARGS, '--out', join(refRoot, 'ref')], { env, encoding: 'utf8' });
  assert.equal(ref.status, 0, ref.stderr);
  const root = tmp();
  const child = spawn(process.execPath, [...CLI, 'train', ...ARGS, '--out', join(root, 'sig')], { env, stdio: 'ignore' });
  await waitForSteps(root, 'sig', 30, child);
  child.kill('SIGINT');
  const code = await new Promise((r) => child.once('exit', (c) => r(c)));
  assert.equal(code, 130);
  const s = openStore(root);
  assert.equal(s.getRun('sig')!.status, 'stopped');
  const ck = s.getEvents('sig', 'checkpoint').map((e) => (e.payload as { reason: string }).reason);
  assert.ok(ck.includes('sigint'), `checkpoint reasons: ${ck}`);
  s.close();
  const r = spawnSync(process.execPath, [...CLI, 'resume', 'sig', '--runs-dir', root, '--quiet'], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  sameWeights(finalWeights(join(root, 'sig')), finalWeights(join(refRoot, 'ref')));
});
