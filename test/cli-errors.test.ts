// Bad flags and configs: one line on stderr, exit code 2, before any training starts (no run
// folder, no database row).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmp, CLI } from './helpers.js';
import { ZOO } from '../src/models/index.js';

const run = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', timeout: 60_000 });

const CASES: [string, string[], RegExp][] = [
  ['unknown flag', ['train', '--learning-rate', '0.1'], /unknown flag --learning-rate/],
  ['unknown command', ['trian'], /unknown command 'trian'/],
  ['missing value', ['train', '--lr'], /--lr needs a value/],
  ['wrong type', ['train', '--lr', 'fast'], /--lr must be a number/],
  ['non-integer batch', ['train', '--batch-size', '12.5'], /--batch-size must be an integer/],
  ['lr <= 0', ['train', '--lr', '0'], /--lr must be > 0/],
  ['negative lr', ['train', '--lr=-1'], /--lr must be > 0/],
  ['batch 0', ['train', '--batch-size', '0'], /--batch-size must be a positive integer/],
  ['negative epochs', ['train', '--epochs', '-1'], /--epochs must be a non-negative integer/],
  ['resize too small for AlexNet', ['train', '--resize', '32'], /too small for AlexNet/],
  ['resize 64 (feature map 0)', ['train', '--resize', '64'], /at least 65x65/],
  ['LeNet at 96', ['train', '--model', 'lenet', '--resize', '96'], /LeNet takes 28x28/],
  ['unknown model', ['train', '--model', 'resnet'], /unknown model 'resnet'/],
  ['unknown init', ['train', '--init', 'zeros'], /unknown --init 'zeros'/],
  ['bad normal std', ['train', '--init', 'normal:-1'], /unknown --init/],
  ['unknown on-nan', ['train', '--on-nan', 'ignore'], /unknown --on-nan 'ignore'/],
  ['bad bn', ['train', '--bn', 'yes'], /unknown --bn 'yes'/],
  ['bad device', ['train', '--device', 'tpu'], /unknown --device 'tpu'/],
  ['cuda on a CPU build', ['train', '--device', 'cuda'], /CUDA is not available/],
  ['momentum out of range', ['train', '--momentum', '1.5'], /--momentum must be in \[0, 1\)/],
  ['probe-every 0', ['train', '--probe-every', '0'], /--probe-every must be a positive integer/],
  ['hist-every -1', ['train', '--hist-every', '-1'], /--hist-every must be a non-negative integer/],
  ['stray argument', ['train', 'alexnet'], /unexpected argument 'alexnet'/],
  ['bad lang', ['train', '--lang', 'fr'], /--lang must be en or zh/],
  ['bool with value', ['train', '--serve=maybe'], /takes no value/],
  ['replay without run', ['replay'], /which run\?/],
  ['resume unknown run', ['resume', 'nope'], /no run 'nope'/],
  ['resume unknown fix', ['resume', 'nope', '--fix', 'magic=1'], /no run 'nope'|unknown fix/],
  ['--bn on a net with BN built in', ['train', '--model', 'resnet18', '--bn', 'scratch'], /--bn does not apply to resnet18 \(it takes --init\)/],
  ['--ratio on a net without it', ['train', '--model', 'nin', '--ratio', '2'], /--ratio does not apply to nin \(it takes --bn, --activation, --init\)/],
  ['NiN too small', ['train', '--model', 'nin', '--resize', '32'], /too small for NiN: it needs at least 67x67/],
  ['VGG ratio that empties a layer', ['train', '--model', 'vgg11', '--ratio', '128'], /--ratio/],
  // Bounds (issue 18): the engine's limits are usage errors before any run exists.
  ['threads far above the cores', ['train', '--threads', '100000'], /--threads 100000 is more than 4 per core/],
  ['seed 1e300', ['train', '--seed', '1e300'], /--seed must be an integer of at most 9007199254740991/],
  ['threads 2^53', ['train', '--threads', '9007199254740992'], /--threads must be an integer of at most/],
  ['lr beyond float32', ['train', '--lr', '1e308'], /--lr must be a finite number within float32's range/],
  ['a grid seed beyond safe integers', ['sweep', '--grid', 'seed=1e300'], /--seed must be an integer of at most/],
  ['runs --status bogus', ['runs', '--status', 'bogus'], /--status must be one of running, finished/],
  ['replay --step 0', ['replay', 'nope', '--step', '0'], /--step must be at least 1/],
];

for (const [name, args, re] of CASES) {
  test(`bad input exits 2 with one line: ${name}`, () => {
    const root = tmp();
    const r = run([...args, '--runs-dir', root]);
    assert.equal(r.status, 2, `exit ${r.status}; stderr: ${r.stderr}`);
    assert.match(r.stderr, re);
    if (name !== 'unknown command') assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace');
    const left = existsSync(root) ? readdirSync(root).filter((f) => !f.startsWith('nanscope.db')) : [];
    assert.deepEqual(left, [], 'no run folder was created');
  });
}

test('a bad NANSCOPE_RESIZE_CACHE_MB exits 2 with one line, before any data is read or run is made', () => {
  const root = tmp();
  const r = spawnSync(process.execPath, [...CLI, 'train', '--resize', '96', '--runs-dir', root],
    { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NANSCOPE_RESIZE_CACHE_MB: 'lots' } });
  assert.equal(r.status, 2, `exit ${r.status}; stderr: ${r.stderr}`);
  assert.match(r.stderr, /NANSCOPE_RESIZE_CACHE_MB must be a non-negative number of MB, got 'lots'/);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.ok(!existsSync(root) || readdirSync(root).length === 0, 'nothing was created');
});

test('--help prints usage and exits 0 for every command', () => {
  for (const c of ['train', 'replay', 'resume', 'runs']) {
    const r = run([c, '--help']);
    assert.equal(r.status, 0, c);
    assert.match(r.stdout, new RegExp(`usage: nanscope ${c}`));
  }
  // The zoo in train --help comes from the registry: every net, its d2l recipe and its knobs.
  const h = run(['train', '--help']).stdout;
  for (const [name, spec] of Object.entries(ZOO)) {
    const r = spec.recipe;
    assert.match(h, new RegExp(`\\n  ${name} +.*lr ${r.lr}, batch ${r.batchSize}, ${r.resize}x${r.resize}, ${r.epochs} epochs`), name);
  }
  const top = run(['--help']);
  assert.equal(top.status, 0);
  assert.match(top.stdout, /train .*replay|replay/s);
});

test('a data error is a clear error (exit 1) naming the file, and leaves no run behind', () => {
  const root = tmp();
  const empty = tmp();
  const r = run(['train', '--model', 'lenet', '--data-dir', empty, '--runs-dir', root]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /train-labels-idx1-ubyte|t10k-labels-idx1-ubyte|train-images|t10k-images/);
  assert.ok(!existsSync(join(root, 'nanscope.db')) || readdirSync(root).every((f) => f.startsWith('nanscope.db')));
});
