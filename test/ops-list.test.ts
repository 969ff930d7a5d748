// native/src/ops.def is the one list of the addon's ops: ops.cc defines and registers them from
// it, and scripts/gen-ops.mjs writes their TypeScript (src/torch/ops.generated.ts) from it.
// These tests fail when the generated file is stale, or when the addon and the list disagree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { DEF_PATH, OUT_PATH, generate, parseOps } from '../scripts/gen-ops.mjs';
import { native } from '../src/torch/native.js';
import { NATIVE_OPS } from '../src/torch/ops.generated.js';
import * as torch from '../src/torch/index.js';

test('src/torch/ops.generated.ts is what native/src/ops.def gives', () => {
  assert.equal(readFileSync(OUT_PATH, 'utf8'), generate(readFileSync(DEF_PATH, 'utf8')),
    'ops.generated.ts is out of date: run `node scripts/gen-ops.mjs` (npm run build:native does)');
  const r = spawnSync(process.execPath, ['scripts/gen-ops.mjs', '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('the built addon registers every listed op as a function', () => {
  const reg = native as unknown as Record<string, unknown>;
  const missing = NATIVE_OPS.filter((n) => typeof reg[n] !== 'function');
  assert.deepEqual(missing, [], 'listed but not registered (rebuild: npm run build:native)');
  assert.ok(NATIVE_OPS.length > 100);
});

test('a METHOD entry becomes a native type and a Tensor method; an OP entry only a native type', () => {
  const def = readFileSync(DEF_PATH, 'utf8') +
    'METHOD(frac, Tensor, (Tn self), self.frac())\nOP(fracScalarless, Tensor, (Tn self, Int dim), self.frac())\n';
  const ts = generate(def);
  assert.match(ts, /^ {2}frac\(self: H\): H;$/m);
  assert.match(ts, /^ {2}frac\(\): Tensor \{ return this\.wrap\(native\.frac\(this\.handle\)\); \}$/m);
  assert.match(ts, /^ {2}fracScalarless\(self: H, dim: number\): H;$/m);
  assert.doesNotMatch(ts, /fracScalarless\(dim/);
  // With a Scalar twin, the method takes a tensor or a number.
  assert.match(ts, /add\(other: Tensor \| number\): Tensor \{\n.*native\.addScalar\(this\.handle, other\) : native\.add\(this\.handle, other\.handle\)/);
});

test('the generator refuses malformed entries with their line', () => {
  assert.throws(() => parseOps('OP(neg, Tensor, (Tn self), self.neg())\nOP(neg, Tensor, (Tn self), self.neg())\n'), /ops\.def:2: neg is listed twice/);
  assert.throws(() => parseOps('OP(x, Tensor, (Blob b), f(b))\n'), /ops\.def:1: x: bad parameter 'Blob b'/);
  assert.throws(() => parseOps('OP(x, Buffer, (Tn self), f(self))\n'), /unknown return kind 'Buffer'/); // CUSTOM only
  assert.throws(() => generate('METHOD(x, Tensor, (Ints shape), f(shape))\n'), /first parameter must be 'Tn self'/);
  assert.throws(() => parseOps('OP(x, Tensor, (Tn self),\n  f(self)\n'), /ops\.def:1: OP entry is not closed/);
});

test('generated Tensor methods behave as the hand-written ones did', () => {
  torch.tidy(() => {
    const a = torch.tensor([1, -2, 3]);
    assert.deepEqual(a.neg().toArray(), [-1, 2, -3]);
    assert.deepEqual(a.add(1).toArray(), [2, -1, 4]);
    assert.deepEqual(a.add(a).toArray(), [2, -4, 6]);
    assert.deepEqual(a.mul(torch.tensor([2, 2, 2])).toArray(), [2, -4, 6]);
    const i = torch.tensor(new BigInt64Array([5n]));
    assert.equal(i.add(2).dtype, 'int64', 'an integral number stays an integer Scalar');
    const b = a.clone();
    assert.equal(b.mul_(2), b, 'in place returns this');
    assert.deepEqual(b.div_(4).toArray(), [0.5, -1, 1.5]);
    assert.equal(b.relu_().zero_().fill_(7).copy_(a), b);
    assert.ok(b.equal(a));
    assert.deepEqual(a.unsqueeze(0).transpose(0, 1).shape, [3, 1]);
    assert.deepEqual(a.indexSelect(0, torch.tensor(new BigInt64Array([2n, 0n]))).toArray(), [3, 1]);
    assert.deepEqual(a.narrow(0, 1, 2).toArray(), [-2, 3]);
    assert.equal(a.select(0, 2).item(), 3);
  });
});
