// tidy(): what a scope disposes and what it hands on, checked against the addon's count of live
// native tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../src/torch/index.js';

test('tidy: a caller-owned tensor returned through an inner tidy stays the caller\'s', () => {
  const w = torch.ones([3]); // made outside any scope: the caller owns it
  const got = torch.tidy(() => {
    const r = torch.tidy(() => w);
    torch.zeros([2]); // a temporary of the outer scope
    return r.sum().item();
  });
  assert.equal(got, 3);
  assert.equal(w.isDisposed, false, 'the outer tidy must not dispose a tensor it did not make');
  // Same for a tensor of an enclosing scope passed through two tidies.
  torch.tidy(() => {
    const a = torch.ones([2]);
    torch.tidy(() => torch.tidy(() => a));
    assert.equal(a.isDisposed, false);
  });
  w.dispose();
});

test('tidy: tensors nested at any depth in the result survive; the rest are freed', () => {
  const before = torch.liveTensors();
  const r = torch.tidy(() => {
    torch.ones([4]);
    return { a: { b: { c: { d: { e: [torch.zeros([2]), new Map([['k', torch.ones([1])]])] } } } } };
  });
  const deep = r.a.b.c.d.e[0] as torch.Tensor;
  const inMap = (r.a.b.c.d.e[1] as Map<string, torch.Tensor>).get('k')!;
  assert.equal(deep.isDisposed, false, 'a tensor 5 levels deep is returned, not disposed');
  assert.equal(inMap.isDisposed, false);
  assert.equal(torch.liveTensors(), before + 2);
  deep.dispose(); inMap.dispose();
  // A cyclic result does not loop.
  const cyc: { self?: unknown; t?: torch.Tensor } = {};
  const c = torch.tidy(() => { cyc.self = cyc; cyc.t = torch.ones([1]); return cyc; });
  assert.equal(c.t!.isDisposed, false);
  c.t!.dispose();
  assert.equal(torch.liveTensors(), before);
});

test('tidy: an async fn is refused without leaving its scope open', async () => {
  const before = torch.liveTensors();
  assert.throws(() => torch.tidy((async () => { torch.ones([2]); }) as unknown as () => void), /must be synchronous/);
  await new Promise((r) => setImmediate(r));
  // No zombie scope: a tensor made afterwards outside any tidy belongs to its maker and is not
  // disposed by anything else; the one the async fn made synchronously was freed.
  const t = torch.ones([2]);
  torch.tidy(() => { torch.zeros([1]); });
  assert.equal(t.isDisposed, false);
  assert.equal(torch.liveTensors(), before + 1);
  t.dispose();
  // And a throwing fn still frees what it made.
  assert.throws(() => torch.tidy(() => { torch.ones([2]); throw new Error('boom'); }), /boom/);
  assert.equal(torch.liveTensors(), before);
});
