// Every native entry point, called with bad arguments: no arguments, wrong types, a disposed
// tensor, wrong shapes and dtypes. Each must throw a JS Error (or return) and never abort the
// process; afterwards the engine still works and no tensor leaked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';
import { native } from '../src/torch/native.js';

// Calls that legitimately mutate process-wide state; called with bad args only.
const SAFE_NO_ARGS = new Set(['version', 'configShow', 'getNumThreads', 'cudaIsAvailable', 'cudaDeviceCount', 'cudaSynchronize',
  'liveTensors', 'isGradEnabled', 'getRngState', 'cpuCacheStats', 'emptyCpuCache']);

test('every native function rejects bad arguments with a JS error', () => {
  const fns = Object.entries(native as unknown as Record<string, unknown>).filter(([k, v]) => typeof v === 'function' && k !== 'NativeTensor');
  assert.ok(fns.length > 100, `found ${fns.length} native functions`);
  const before = torch.liveTensors();
  const dead = torch.ones([2]);
  dead.dispose();
  const f32 = torch.ones([2, 3]);
  const i64 = torch.zeros([4], { dtype: 'int64' });
  const argSets: unknown[][] = [
    [],
    ['not a tensor', 'x', {}, null],
    [dead.handle, dead.handle, dead.handle],
    [{}, [1, 'a'], -1],
    [f32.handle, i64.handle, 'float32', [1, 2, 3, 4, 5, 6, 7]],
    [i64.handle, f32.handle, [-5], [999], 1.5, 'bogus'],
  ];
  let threw = 0;
  for (const [name, fn] of fns) {
    for (const args of argSets) {
      if (args.length === 0 && SAFE_NO_ARGS.has(name)) continue;
      if (name === 'setGradEnabled' || name === 'setNumThreads' || name === 'manualSeed' || name === 'setRngState') {
        // process-wide state: only malformed calls
        assert.throws(() => (fn as (...a: unknown[]) => unknown)(...args.slice(0, 0), 'x'), Error, name);
        continue;
      }
      try {
        const r = (fn as (...a: unknown[]) => unknown)(...args);
        if (r && typeof r === 'object' && 'dispose' in r && !args.includes(r)) (r as { dispose(): void }).dispose();
      } catch (e) {
        assert.ok(e instanceof Error, `${name} threw a non-Error`);
        assert.ok(e.message.length > 0 && !/^\s*$/.test(e.message), `${name}: empty message`);
        threw++;
      }
    }
  }
  assert.ok(threw > fns.length * 3, `most bad calls throw (${threw})`);
  assert.equal(torch.isGradEnabled(), true);
  // The engine still works and nothing leaked.
  assert.deepEqual(torch.tidy(() => torch.ones([2, 3]).add(1).sum().item()), 12);
  f32.dispose(); i64.dispose();
  assert.equal(torch.liveTensors(), before);
});

test('messages name the problem: libtorch for shapes and dtypes, ours for arguments', () => {
  torch.tidy(() => {
    const a = torch.ones([2, 3]);
    assert.throws(() => native.matmul(a.handle, a.handle), /mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)/);
    assert.throws(() => native.conv2d(a.handle, a.handle, null, [1, 1], [0, 0], [1, 1], 1), /weight|input|Expected/);
    assert.throws(() => (native.add as (...x: unknown[]) => unknown)(a.handle), /argument 1: expected a tensor/);
    assert.throws(() => (native.sum as (...x: unknown[]) => unknown)(a.handle, 'x', false), /argument 1: expected an array of integers/);
    assert.throws(() => native.reshape(a.handle, [4]), /shape '\[4\]' is invalid for input of size 6/);
    assert.throws(() => native.toDevice(a.handle, 'cuda'), /CUDA|cuda/);
    assert.throws(() => native.fromBuffer(new Float32Array(3), [2, 2], 'float32'), /do not fill shape/);
    assert.throws(() => native.zeros([2], 'float16', 'cpu'), /unknown dtype 'float16'/);
    assert.throws(() => native.zeros([2], 'float32', 'tpu'), /device|Device|tpu/);
  });
});
