// The verdict's taxonomy (src/diagnose/verdict.ts) on probe histories built field by field:
// each mode on each side of its threshold, the chain's steps, causes, fixes that fit the net,
// and English and Chinese carrying the same numbers. The real-run cases are in verdict-suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { History, verdict, FIELD, NF, EXPLODE_GROWTH, LOSS_BLOWUP, VANISH_DEPTH_RATIO, DEAD_FRACTION, SATURATED_FRACTION, UPDATE_RATIO_HIGH,
  type VerdictContext, type LayerMeta } from '../src/diagnose/index.js';
import { explain } from '../src/diagnose/explain.js';
import type { NonFiniteReport } from '../src/diagnose/report.js';

const LN10 = Math.log(10);
const net = (act: 'relu' | 'sigmoid'): LayerMeta[] => [
  { index: 0, name: '0', parent: '', depth: 1, leaf: true, alias: 'conv1', kind: 'Conv2d', hasWeight: true, activation: null, normalizes: false },
  { index: 1, name: '1', parent: '', depth: 1, leaf: true, alias: `${act}1`, kind: act === 'relu' ? 'ReLU' : 'Sigmoid', hasWeight: false, activation: act, normalizes: false },
  { index: 2, name: '2', parent: '', depth: 1, leaf: true, alias: 'fc1', kind: 'Linear', hasWeight: true, activation: null, normalizes: false },
];
const ctx = (act: 'relu' | 'sigmoid' = 'relu', o: Partial<VerdictContext> = {}): VerdictContext =>
  ({ layers: net(act), report: null, lr: 0.1, bn: 'none', init: 'xavier', ...o });

interface Step { loss?: number; acc?: number; grad?: number; firstRel?: number; dead?: number; sat?: number; wNorm?: number; update?: number; logitStd?: number }
/** 30 probed steps of batch 256; each field a function of the step (defaults: a net that learns). */
function history(f: (s: number) => Step, inputMax = 1): History {
  const h = new History(3);
  for (let s = 1; s <= 30; s++) {
    const o = f(s);
    const v = new Float32Array(3 * NF).fill(NaN);
    const w = o.wNorm ?? 1;
    v[0 * NF + FIELD.w_norm] = w; v[0 * NF + FIELD.grad_w_norm] = (o.firstRel ?? 1) * w; v[0 * NF + FIELD.act_std] = 1;
    v[2 * NF + FIELD.w_norm] = w; v[2 * NF + FIELD.grad_w_norm] = w; v[2 * NF + FIELD.act_std] = o.logitStd ?? 1;
    v[0 * NF + FIELD.update_ratio] = o.update ?? 1e-3; v[2 * NF + FIELD.update_ratio] = o.update ?? 1e-3;
    v[1 * NF + FIELD.act_zero_frac] = o.dead ?? 0.5;
    v[1 * NF + FIELD.act_sat_frac] = o.sat ?? 0.1;
    const acc = o.acc ?? Math.min(0.9, 0.1 + s * 0.03);
    h.push(s, o.loss ?? 2.3 - s * 0.05, o.grad ?? 1, v, inputMax, { correct: Math.round(acc * 256), size: 256 });
  }
  return h;
}
const chance = { loss: LN10, acc: 0.1 };

test('healthy: a learning net with nothing out of line, and no fixes', () => {
  const v = verdict(history(() => ({})), ctx());
  assert.equal(v.run, 'healthy');
  assert.deepEqual(v.fixes, []);
  assert.match(v.text.en, /^Healthy/);
  assert.match(v.text.zh, /^健康/);
});

test('stuck at chance: accuracy within 3 binomial standard errors of 1/C, not beyond', () => {
  const v = verdict(history(() => chance), ctx());
  assert.equal(v.run, 'stuck');
  assert.match(v.text.en, /Accuracy 0\.1\d* .* chance .* ln 10 = 2\.3/);
  assert.match(v.text.zh, /ln 10 = 2\.3/);
  // Over the last 10 steps x 256 examples, 3 sigma is 0.0178: 0.125 is learning.
  assert.equal(verdict(history(() => ({ ...chance, acc: 0.125 })), ctx()).run, 'healthy');
  assert.equal(verdict(history(() => ({ ...chance, acc: 0.115 })), ctx()).run, 'stuck');
});

test('stuck: its cause is measured (lr that rewrites the weights, a signal that fades from the init) or none is claimed', () => {
  const lr = verdict(history((s) => ({ ...chance, update: s === 2 ? UPDATE_RATIO_HIGH * 1.5 : 1e-3 })), ctx());
  assert.deepEqual(lr.causes, ['lr-too-high']);
  assert.match(lr.text.en, /learning rate 0\.1 is too high: at step 2 one update moved/);
  assert.equal(lr.fixes[0].fix, 'lr=0.01');
  const mom = verdict(history((s) => ({ ...chance, update: s === 2 ? UPDATE_RATIO_HIGH * 1.5 : 1e-3 })), ctx('relu', { momentum: 0.95 }));
  assert.match(mom.text.en, /learning rate 0\.1 with momentum 0\.95 \(a steady step is 20x the learning rate\) is too high/);
  assert.match(mom.text.zh, /动量 0\.95 下，稳定时每步是学习率的 20 倍/);
  const under = verdict(history((s) => ({ ...chance, update: s === 2 ? UPDATE_RATIO_HIGH * 0.5 : 1e-3 })), ctx());
  assert.deepEqual(under.causes, []);
  assert.match(under.text.en, /No single cause stands out/);
  assert.ok(!under.fixes.some((f) => f.fix.startsWith('lr=')), 'no smaller lr without a step that rewrote the weights');
  const faded = verdict(history(() => ({ ...chance, logitStd: VANISH_DEPTH_RATIO / 2 })), ctx('relu', { init: 'normal:0.01' }));
  assert.deepEqual(faded.causes, ['init-vanishing']);
  assert.equal(faded.fixes[0].fix, 'init=xavier');
  assert.match(faded.text.en, /fades through the layers from the initialisation \(normal:0\.01\)/);
});

test('exploding without NaN: loss an order of magnitude above ln(C), or norms grown 100x; not below', () => {
  const loss = verdict(history((s) => ({ loss: s > 20 ? LOSS_BLOWUP * LN10 * 1.5 : 2, acc: 0.3 })), ctx());
  assert.equal(loss.run, 'exploding');
  assert.match(loss.text.en, /Exploding without NaN/);
  assert.match(loss.text.en, /With ReLU the derivative is 0 or 1/);
  assert.equal(verdict(history((s) => ({ loss: s > 20 ? LOSS_BLOWUP * LN10 * 0.5 : 2, acc: 0.3 })), ctx()).run, 'healthy');
  const grad = verdict(history((s) => ({ grad: s > 20 ? EXPLODE_GROWTH * 1.5 : 1 })), ctx());
  assert.equal(grad.run, 'exploding');
  assert.equal(grad.fixes[0].fix, 'bn=builtin');
  assert.equal(verdict(history((s) => ({ grad: s > 20 ? EXPLODE_GROWTH * 0.5 : 1 })), ctx()).run, 'healthy');
  const weights = verdict(history((s) => ({ wNorm: s > 20 ? EXPLODE_GROWTH * 1.5 : 1 })), ctx());
  assert.equal(weights.run, 'exploding');
  assert.match(weights.text.en, /weights grew 150x/);
});

test('blew up, then died: a blow-up followed by a ReLU layer with every output 0, with the step of each', () => {
  const v = verdict(history((s) => ({ loss: s === 3 ? 1e12 : LN10, acc: 0.1, dead: s >= 5 ? 1 : 0.5 })), ctx());
  assert.equal(v.run, 'blew-up-died');
  assert.deepEqual(v.chain.map((l) => [l.part, l.step]), [['blow-up', 3], ['dead', 5], ['chance', null]]);
  assert.match(v.text.en, /loss first passed 23 \(10x ln 10\) at step 3 and reached 1\.0e12 at step 3.*every output of relu1 is exactly 0 from step 5: .*the net is dead.*accuracy 0\.1\d* .* chance/);
  assert.match(v.text.zh, /第 3 步.*1\.0e12.*relu1.*第 5 步.*网络已经死了/);
  // Without the blow-up it is plain dead ReLUs.
  assert.equal(verdict(history((s) => ({ ...chance, dead: s >= 5 ? 1 : 0.5 })), ctx()).run, 'dead-relu');
});

test('dead-relu: zero fraction above DEAD_FRACTION, not at it; lr named only when a step that large came first', () => {
  const v = verdict(history((s) => ({ dead: (1 + DEAD_FRACTION) / 2, update: s === 2 ? 5 : 1e-3 })), ctx());
  assert.equal(v.run, 'dead-relu');
  assert.equal(v.layers[1].verdict, 'dead-relu');
  assert.ok(v.causes.includes('lr-too-high'));
  assert.equal(verdict(history(() => ({ dead: DEAD_FRACTION - 0.05 })), ctx()).run, 'healthy');
});

test('saturated: most sigmoid outputs in the band while not learning; the advice is about sigmoid and lr', () => {
  const v = verdict(history((s) => ({ loss: 500, acc: 0.1, sat: s >= 3 ? 0.97 : 0.2, update: s === 2 ? 3 : 1e-3 })), ctx('sigmoid', { lr: 100 }));
  assert.equal(v.run, 'saturated');
  assert.deepEqual(v.chain.map((l) => [l.part, l.step]), [['saturated', 3], ['loss', null], ['chance', null]]);
  assert.match(v.text.en, /97% of sigmoid1's outputs are pinned .* from step 3/);
  assert.match(v.text.en, /the loss is 500, 217x ln 10/);
  assert.match(v.text.en, /learning rate 100 is too high/);
  assert.equal(v.fixes[0].fix, 'lr=10');
  assert.ok(v.fixes.some((f) => f.fix === 'activation=relu'));
  assert.equal(verdict(history(() => ({ ...chance, sat: SATURATED_FRACTION - 0.1 })), ctx('sigmoid')).run, 'stuck');
  // A net that learns with saturated units is not in trouble.
  assert.equal(verdict(history(() => ({ sat: 0.9 })), ctx('sigmoid')).run, 'healthy');
});

test('vanishing: first/last relative gradient below VANISH_DEPTH_RATIO; the mechanism is the activation that ran', () => {
  const sig = verdict(history(() => ({ ...chance, firstRel: VANISH_DEPTH_RATIO / 10 })), ctx('sigmoid'));
  assert.equal(sig.run, 'vanishing');
  assert.equal(sig.layers[0].verdict, 'vanishing');
  assert.match(sig.text.en, /at most 0\.25/);
  assert.ok(sig.fixes.some((f) => f.fix === 'activation=relu'));
  // A ReLU net that learns with tiny early gradients: no sigmoid talk, no "use ReLU".
  const relu = verdict(history(() => ({ firstRel: VANISH_DEPTH_RATIO / 10 })), ctx('relu'));
  assert.equal(relu.run, 'vanishing');
  assert.doesNotMatch(relu.text.en, /sigmoid/i);
  assert.ok(!relu.fixes.some((f) => f.fix === 'activation=relu' || /sigmoid/.test(f.en)));
  assert.equal(verdict(history(() => ({ firstRel: VANISH_DEPTH_RATIO * 10 })), ctx('sigmoid')).run, 'healthy');
  // With BN the relative gradient tracks 1/|w|^2, not the signal: no depth verdict.
  assert.equal(verdict(history(() => ({ firstRel: VANISH_DEPTH_RATIO / 10 })), ctx('relu', { bn: 'builtin' })).run, 'healthy');
});

test('oscillating: repeated spikes above twice the recent loss and above ln(C), while learning', () => {
  const v = verdict(history((s) => ({ loss: s % 7 === 0 ? 6 : 1, acc: 0.6 })), ctx());
  assert.equal(v.run, 'oscillating');
  assert.equal(v.chain[0].step, 7);
  assert.equal(v.fixes[0].fix, 'lr=0.01');
  assert.equal(verdict(history((s) => ({ loss: s === 7 ? 6 : 1, acc: 0.6 })), ctx()).run, 'healthy', 'one spike is a blip');
});

test('fixes fit the net that ran: no BN for a BN net, no Xavier for Xavier, BN text per activation', () => {
  const grow = (s: number) => ({ grad: s > 20 ? EXPLODE_GROWTH * 2 : 1 });
  assert.ok(!verdict(history(grow), ctx('relu', { bn: 'builtin' })).fixes.some((f) => f.fix.startsWith('bn=')));
  assert.ok(!verdict(history(grow), ctx()).fixes.some((f) => f.fix === 'init=xavier'));
  assert.equal(verdict(history(grow), ctx('relu', { init: 'normal:0.1' })).fixes.some((f) => f.fix === 'init=xavier'), true);
  const reluBn = verdict(history(grow), ctx()).fixes.find((f) => f.fix === 'bn=builtin')!;
  assert.doesNotMatch(reluBn.en, /sigmoid/);
  const sigBn = verdict(history(() => ({ ...chance, firstRel: 1e-4 })), ctx('sigmoid')).fixes.find((f) => f.fix === 'bn=builtin')!;
  assert.match(sigBn.en, /sigmoid's slope/);
});

test('unscaled input pixels are a cause, with the fix first, in both languages', () => {
  const v = verdict(history(() => chance, 255), ctx());
  assert.equal(v.fixes[0].fix, 'scale-pixels');
  assert.match(v.text.en, /reach 255/);
  assert.match(v.text.zh, /255/);
});

test('a doctor table reorders the fixes by what held, cheapest first', () => {
  const h = history((s) => ({ grad: s > 20 ? EXPLODE_GROWTH * 2 : 1 }));
  const doctor = [
    { fix: 'clip=1', held: false, firstNonFiniteStep: 9, loss: NaN, acc: NaN, verdict: 'non-finite', cost: 0 },
    { fix: 'bn=builtin', held: true, firstNonFiniteStep: null, loss: 0.9, acc: 0.7, verdict: 'healthy', cost: 2 },
    { fix: 'lr=0.01', held: true, firstNonFiniteStep: null, loss: 1.2, acc: 0.5, verdict: 'healthy', cost: 0 },
  ];
  const v = verdict(h, ctx('relu', { doctor }));
  assert.deepEqual(v.fixes.slice(0, 3).map((f) => f.fix), ['lr=0.01', 'bn=builtin', 'clip=1']);
  assert.match(v.fixes[0].evidence!.en, /held/);
  assert.match(v.fixes[2].evidence!.en, /non-finite at step 9/);
});

test('explain: the mechanism matches the activation (no ReLU text for a sigmoid run)', () => {
  const r: Omit<NonFiniteReport, 'explanation'> = {
    step: 5, epoch: 0, batch: 4, pass: 'forward', layer: '2', layerIndex: 2, layerKind: 'Linear', alias: 'fc1', op: 'linear (addmm)',
    tensor: 'output', counts: { nan: 0, posInf: 3, negInf: 0 }, detail: { inputMaxAbs: 1, weightMaxAbs: 1e38 },
    trail: { steps: [], actMax: [], gradNorm: [], loss: [], globalGradNorm: [] },
  };
  const sig = explain(r, { activation: 'sigmoid', normalized: false });
  assert.doesNotMatch(sig.en, /ReLU/);
  assert.match(sig.en, /Sigmoid outputs stay in \(0, 1\)/);
  assert.match(sig.zh, /sigmoid 的输出总在 \(0, 1\)/);
  const relu = explain(r, { activation: 'relu', normalized: false });
  assert.match(relu.en, /With ReLU the derivative is 0 or 1/);
  assert.doesNotMatch(relu.en, /sigmoid/i);
});

test('stuck: a deeper layer whose gradient fades is named even when the first layer\'s does not (NiN\'s 1x1 convs)', () => {
  const layers: LayerMeta[] = [
    ...net('relu').slice(0, 2),
    { index: 2, name: '2', parent: '', depth: 1, leaf: true, alias: 'conv2', kind: 'Conv2d', hasWeight: true, activation: null, normalizes: false },
    { index: 3, name: '3', parent: '', depth: 1, leaf: true, alias: 'fc1', kind: 'Linear', hasWeight: true, activation: null, normalizes: false },
  ];
  const run = (midRel: number) => {
    const h = new History(4);
    for (let s = 1; s <= 30; s++) {
      const v = new Float32Array(4 * NF).fill(NaN);
      for (const [i, rel] of [[0, 0.5], [2, midRel], [3, 1]]) {
        v[i * NF + FIELD.w_norm] = 1; v[i * NF + FIELD.grad_w_norm] = rel; v[i * NF + FIELD.update_ratio] = 1e-3; v[i * NF + FIELD.act_std] = 1;
      }
      v[1 * NF + FIELD.act_zero_frac] = 0.5;
      h.push(s, LN10, 1, v, 1, { correct: 26, size: 256 });
    }
    return verdict(h, { layers, report: null, lr: 0.1, bn: 'none', init: 'xavier' });
  };
  const faded = run(VANISH_DEPTH_RATIO / 2);
  assert.equal(faded.run, 'stuck');
  assert.deepEqual(faded.causes, []);
  assert.match(faded.text.en, /Still, conv2 gets a relative gradient only 0\.005x the last layer's/);
  assert.match(faded.text.zh, /conv2 的相对梯度只有最后一层的 0\.005 倍/);
  assert.deepEqual(faded.layers.filter((l) => l.verdict === 'vanishing').map((l) => l.alias), ['conv2']);
  const fine = run(VANISH_DEPTH_RATIO * 2);
  assert.doesNotMatch(fine.text.en, /Still,/);
  assert.deepEqual(fine.layers.filter((l) => l.verdict === 'vanishing'), []);
});

test('a first layer that gets no gradient at all is said so, not "0x the last one\'s"', () => {
  const v = verdict(history(() => ({ ...chance, firstRel: 0, sat: SATURATED_FRACTION + 0.1 })), ctx('sigmoid'));
  assert.ok(v.causes.includes('vanishing-depth'));
  assert.match(v.text.en, /No gradient at all reaches the first weighted layer \(0 in float32\)/);
  assert.match(v.text.zh, /第一个带权重层完全收不到梯度/);
  assert.doesNotMatch(v.text.en, / 0x /);
});

test('fixes and text follow the net that ran: no BN fix for a net with BN layers of its own, no architecture fix a model file cannot take', () => {
  const exploding = history((s) => ({ grad: s > 20 ? EXPLODE_GROWTH * 1.5 : 1 }));
  // d2l's ResNet: --bn stays 'none', but the net has its own BatchNorm2d layers.
  const own = net('relu').map((l) => (l.index === 1 ? { ...l, alias: 'bn1', kind: 'BatchNorm2d', activation: null, normalizes: true } : l));
  const resnet = verdict(exploding, ctx('relu', { layers: own }));
  assert.equal(resnet.run, 'exploding');
  assert.ok(!resnet.fixes.some((f) => f.fix === 'bn=builtin'), 'the net already normalizes');
  assert.match(resnet.text.en, /Batch normalization keeps each layer's outputs at a fixed scale/);
  assert.match(resnet.text.zh, /批量归一化让每层的输出保持固定的尺度/);
  // A model file takes no knob: neither BN nor another activation is offered; lr, clipping, warm-up are.
  const file = verdict(exploding, ctx('sigmoid', { takes: [] }));
  assert.deepEqual(file.fixes.map((f) => f.fix).filter((f) => f.startsWith('bn=') || f.startsWith('activation=')), []);
  assert.ok(file.fixes.some((f) => f.fix.startsWith('lr=')) && file.fixes.some((f) => f.fix === 'clip=1'));
  // The same net from the zoo gets both.
  const zoo = verdict(history(() => ({ ...chance, sat: SATURATED_FRACTION + 0.1 })), ctx('sigmoid', { takes: ['bn', 'activation'] }));
  assert.ok(zoo.fixes.some((f) => f.fix === 'bn=builtin') && zoo.fixes.some((f) => f.fix === 'activation=relu'));
});
