// Your own model through the CLI: `nanscope train --model FILE` trains a module file's
// network (examples/my-cnn.ts); the run records the file's path, and replay and resume import
// it again from there. Bad files get one clear line and exit code 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openStore } from '../src/store/index.js';
import type { TrainConfig } from '../src/train/config.js';
import { tmp, CLI } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const EXAMPLE = resolve(ROOT, 'examples/my-cnn.ts');
const cli = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
const SMALL = ['--limit-train', '256', '--limit-test', '64', '--batch-size', '32', '--threads', '1', '--checkpoint-every', '2', '--quiet'];

test('train --model FILE trains the file\'s network; replay and resume rebuild it from the recorded path', () => {
  const root = tmp();
  const out = join(root, 'mine');
  const t = cli(['train', '--model', 'examples/my-cnn.ts', '--max-steps', '4', '--out', out, ...SMALL]);
  assert.equal(t.status, 0, t.stdout + t.stderr);
  const store = openStore(root);
  try {
    const run = store.getRun('mine')!;
    const c = run.config as TrainConfig;
    assert.equal(c.model, 'file');
    assert.equal(c.modelFile, EXAMPLE);
    assert.equal(run.status, 'finished');
    // The user's layers are the ones probed and stored.
    const names = store.getLayers('mine').map((l) => l.name);
    assert.ok(names.includes('head'), names.join(','));
    assert.equal(store.getSteps('mine').length, 4);
  } finally {
    store.close();
  }
  const rs = cli(['resume', 'mine', '--runs-dir', root, '--max-steps', '6', '--quiet']);
  assert.equal(rs.status, 0, rs.stdout + rs.stderr);
  assert.match(rs.stderr, /continuing from .*checkpoint\.st/);
  const s2 = openStore(root);
  try { assert.equal(s2.getSteps('mine').length, 6); } finally { s2.close(); }
  // The same network driven to overflow (lr 1e30): located, stopped, and replayed from the
  // state before the bad step with the network rebuilt from the recorded file.
  const bad = cli(['train', '--model', 'examples/my-cnn.ts', '--lr', '1e30', '--max-steps', '4', '--out', join(root, 'bad'), ...SMALL]);
  assert.equal(bad.status, 3, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /non-finite at step 2: forward pass/);
  const rp = cli(['replay', 'bad', '--runs-dir', root]);
  assert.equal(rp.status, 0, rp.stdout + rp.stderr);
  assert.match(rp.stdout, /reproduced: same pass, layer and op as the original run \(forward, /);
});

test('bad model files: one clear line, exit code 2', () => {
  const dir = tmp();
  const file = (name: string, body: string) => { const p = join(dir, name); writeFileSync(p, body); return p; };
  const cases: [string, string, RegExp][] = [
    ['no export', file('none.ts', 'export const x = 1;\n'), /exports no model function \(found: x\)/],
    ['not a Module', file('num.ts', 'export default function model() { return 42; }\n'), /returned number, not an nn\.Module/],
    ['shape fails on the first batch', file('shape.ts', `import { nn } from 'nanscope';
export default function model() { return new nn.Sequential(new nn.Flatten(), new nn.Linear(100, 10)); }\n`),
    /failed on the first batch \(input \[2, 1, 28, 28\]\).*/],
    ['wrong number of outputs', file('out.ts', `import { nn } from 'nanscope';
export default function model() { return new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 3)); }\n`),
    /maps the first batch \(input \[2, 1, 28, 28\]\) to \[2, 3\]; cross-entropy needs \[2, 10\]/],
    ['missing file', join(dir, 'nope.ts'), /does not exist/],
    ['not a module file', file('net.txt', 'hi'), /expected \.ts, \.mts, \.js, \.mjs/],
  ];
  for (const [what, path, re] of cases) {
    const r = cli(['train', '--model', path, '--runs-dir', join(dir, 'runs'), ...SMALL, '--max-steps', '1']);
    assert.equal(r.status, 2, `${what}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, re, what);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
  }
  const k = cli(['train', '--model', EXAMPLE, '--bn', 'builtin', '--runs-dir', join(dir, 'runs')]);
  assert.equal(k.status, 2);
  assert.match(k.stderr, /--bn does not apply to the model file/);
});
