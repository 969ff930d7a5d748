// The verdict thresholds (src/diagnose/verdict.ts), each side of each line, on probe histories
// built field by field: the classification is pure arithmetic over recorded numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { History, verdict, FIELD, NF, EXPLODE_GROWTH, VANISH_DEPTH_RATIO, DEAD_FRACTION, type VerdictContext } from '../src/diagnose/index.js';

const layers = [
  { name: '0', alias: 'conv1', kind: 'Conv2d' }, { name: '1', alias: 'relu1', kind: 'ReLU' },
  { name: '2', alias: 'fc1', kind: 'Linear' },
];
const ctx: VerdictContext = { layers, report: null, lr: 0.01, bn: 'none', init: 'xavier', activation: 'relu' };

function history(o: { grad: (s: number) => number; firstRel?: number; dead?: number; inputMax?: number }): History {
  const h = new History(layers.length);
  for (let s = 1; s <= 30; s++) {
    const v = new Float32Array(layers.length * NF).fill(NaN);
    v[0 * NF + FIELD.w_norm] = 1; v[0 * NF + FIELD.grad_w_norm] = o.firstRel ?? 1;
    v[2 * NF + FIELD.w_norm] = 1; v[2 * NF + FIELD.grad_w_norm] = 1;
    v[1 * NF + FIELD.act_zero_frac] = o.dead ?? 0.5;
    h.push(s, 1, o.grad(s), v, o.inputMax ?? 1);
  }
  return h;
}

test('exploding: global gradient norm growth above EXPLODE_GROWTH, not at it', () => {
  const over = verdict(history({ grad: (s) => (s > 20 ? EXPLODE_GROWTH * 1.5 : 1) }), ctx);
  assert.equal(over.run, 'exploding');
  assert.equal(over.fixes[0].fix, 'bn=builtin');
  const under = verdict(history({ grad: (s) => (s > 20 ? EXPLODE_GROWTH * 0.5 : 1) }), ctx);
  assert.equal(under.run, 'healthy');
});

test('vanishing: first/last relative gradient below VANISH_DEPTH_RATIO, not above', () => {
  const v = verdict(history({ grad: () => 1, firstRel: VANISH_DEPTH_RATIO / 10 }), { ...ctx, activation: 'sigmoid' });
  assert.equal(v.run, 'vanishing');
  assert.equal(v.layers[0].verdict, 'vanishing');
  assert.match(v.text.en, /at most 0.25/);
  assert.ok(v.fixes.some((f) => f.fix === 'activation=relu'));
  assert.equal(verdict(history({ grad: () => 1, firstRel: VANISH_DEPTH_RATIO * 10 }), ctx).run, 'healthy');
});

test('dead-relu: zero fraction above DEAD_FRACTION', () => {
  const v = verdict(history({ grad: () => 1, dead: (1 + DEAD_FRACTION) / 2 }), ctx);
  assert.equal(v.run, 'dead-relu');
  assert.equal(v.layers[1].verdict, 'dead-relu');
  assert.equal(verdict(history({ grad: () => 1, dead: DEAD_FRACTION - 0.05 }), ctx).run, 'healthy');
});

test('unscaled input pixels are called out, with the fix first, in both languages', () => {
  const v = verdict(history({ grad: () => 1, inputMax: 255 }), ctx);
  assert.equal(v.fixes[0].fix, 'scale-pixels');
  assert.match(v.text.en, /reach 255/);
  assert.match(v.text.zh, /255/);
});
