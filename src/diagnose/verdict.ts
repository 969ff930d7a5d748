// Verdict: healthy / exploding / vanishing / dead-relu, per layer and for the run, from the
// probe history. The thresholds are written here, named, and tested (test/verdict.test.ts):
//   exploding  the global gradient norm's median over the last WINDOW probed steps is
//              > EXPLODE_GROWTH x its median over the first WINDOW, or the run went non-finite
//              after such growth; a layer explodes when its own weight-gradient norm does.
//   vanishing  the first weighted layer's weight-gradient norm, relative to its weight norm, is
//              < VANISH_DEPTH_RATIO x the last weighted layer's (median over the run):
//              early layers barely move while the last ones learn.
//   dead-relu  a ReLU layer outputs exact zeros for > DEAD_FRACTION of its units (median over the
//              last WINDOW steps): those units pass no gradient at all.
import { FIELD, NF } from './fields.js';
import { History, median } from './history.js';
import type { NonFiniteReport } from './report.js';
import { fmt } from './format.js';

export const WINDOW = 10;
export const EXPLODE_GROWTH = 100;
export const VANISH_DEPTH_RATIO = 1e-2;
export const DEAD_FRACTION = 0.99;
export const UNSCALED_INPUT_MAX = 1.5;

export type Health = 'healthy' | 'exploding' | 'vanishing' | 'dead-relu';
export interface LayerVerdict { name: string; alias: string; kind: string; verdict: Health; note: string }
export interface Fix { fix: string; en: string; zh: string }
export interface Verdict {
  run: Health;
  diverged: boolean;
  layers: LayerVerdict[];
  numbers: Record<string, number>;
  text: { en: string; zh: string };
  fixes: Fix[];
}

export interface VerdictContext {
  layers: { name: string; alias: string; kind: string }[];
  report: NonFiniteReport | null;
  lr: number;
  bn: string;
  init: string;
  activation: string;
}

const relGrad = (h: History, i: number): number[] =>
  h.rows.map((r) => r.values[i * NF + FIELD.grad_w_norm] / r.values[i * NF + FIELD.w_norm]);

export function verdict(h: History, c: VerdictContext): Verdict {
  const rows = h.rows;
  const numbers: Record<string, number> = {};
  // Short runs: thirds instead of overlapping windows.
  const w = Math.min(WINDOW, Math.max(1, Math.floor(rows.length / 3)));
  const first = rows.slice(0, w);
  const last = rows.slice(-w);
  const g0 = median(first.map((r) => r.gradNorm).filter(Number.isFinite));
  const g1 = median(last.map((r) => r.gradNorm).filter(Number.isFinite));
  const growth = g1 / g0;
  numbers.gradNormStart = g0;
  numbers.gradNormEnd = g1;
  numbers.gradNormGrowth = growth;
  const diverged = c.report !== null;

  const weighted = c.layers.map((l, i) => ({ ...l, i })).filter((l) => l.kind === 'Conv2d' || l.kind === 'Linear');
  let depthRatio = NaN;
  if (weighted.length >= 2 && rows.length) {
    const a = median(relGrad(h, weighted[0].i));
    const b = median(relGrad(h, weighted[weighted.length - 1].i));
    depthRatio = a / b;
  }
  numbers.depthRatio = depthRatio;

  const layers: LayerVerdict[] = c.layers.map((l, i) => {
    let v: Health = 'healthy';
    let note = '';
    if (l.kind === 'ReLU') {
      const dead = median(h.field(i, 'act_zero_frac', w));
      if (dead > DEAD_FRACTION) { v = 'dead-relu'; note = `${fmt(dead * 100)}% of outputs are exactly 0`; }
    }
    if (l.kind === 'Conv2d' || l.kind === 'Linear') {
      const s = h.field(i, 'grad_w_norm');
      const a = median(s.slice(0, w).filter(Number.isFinite));
      const b = median(s.slice(-w).filter(Number.isFinite));
      if (b / a > EXPLODE_GROWTH || (diverged && c.report?.layer === l.name)) { v = 'exploding'; note = `weight-gradient norm ${fmt(a)} -> ${fmt(b)}`; }
      else if (!diverged && weighted.length >= 2 && l.name !== weighted[weighted.length - 1].name) {
        const ratio = median(relGrad(h, i)) / median(relGrad(h, weighted[weighted.length - 1].i));
        if (ratio < VANISH_DEPTH_RATIO) { v = 'vanishing'; note = `relative gradient ${fmt(ratio)}x the last layer's`; }
      }
    }
    return { name: l.name, alias: l.alias, kind: l.kind, verdict: v, note };
  });

  let run: Health = 'healthy';
  if (diverged || growth > EXPLODE_GROWTH) run = 'exploding';
  else if (depthRatio < VANISH_DEPTH_RATIO) run = 'vanishing';
  else if (layers.some((l) => l.verdict === 'dead-relu')) run = 'dead-relu';

  const unscaled = h.inputMax > UNSCALED_INPUT_MAX;
  numbers.inputMax = h.inputMax;
  return { run, diverged, layers, numbers, text: describe(run, diverged, numbers, c, unscaled), fixes: rankFixes(run, c, unscaled) };
}

function describe(run: Health, diverged: boolean, n: Record<string, number>, c: VerdictContext, unscaled: boolean): { en: string; zh: string } {
  const en: string[] = [];
  const zh: string[] = [];
  if (run === 'exploding') {
    en.push(diverged ? 'Exploding gradients: the run went non-finite.' : 'Exploding gradients.');
    zh.push(diverged ? '梯度爆炸：训练出现了非有限值。' : '梯度爆炸。');
    en.push(`The global gradient norm went from ${fmt(n.gradNormStart)} (first ${WINDOW} steps) to ${fmt(n.gradNormEnd)} (last ${WINDOW} finite steps).`);
    zh.push(`全局梯度范数从 ${fmt(n.gradNormStart)}（前 ${WINDOW} 步）变为 ${fmt(n.gradNormEnd)}（最后 ${WINDOW} 个有限步）。`);
    if (c.report) { en.push(c.report.explanation.en); zh.push(c.report.explanation.zh); }
  } else if (run === 'vanishing') {
    en.push(`Vanishing gradients: the first layer's relative gradient is ${fmt(n.depthRatio)}x the last layer's. ${c.activation === 'sigmoid' ? "Sigmoid's derivative is at most 0.25, so every layer the gradient passes back through shrinks it at least 4x; after many layers the early weights barely change." : 'The early layers barely change while the last ones learn.'}`);
    zh.push(`梯度消失：第一层的相对梯度只有最后一层的 ${fmt(n.depthRatio)} 倍。${c.activation === 'sigmoid' ? 'sigmoid 的导数最大只有 0.25，梯度每向前经过一层至少缩小 4 倍；经过多层之后，前面层的权重几乎不再变化。' : '前面的层几乎不变，只有最后几层在学习。'}`);
  } else if (run === 'dead-relu') {
    en.push('Dead ReLUs: some ReLU layers output zeros almost everywhere, so no gradient flows through them.');
    zh.push('ReLU 死亡：部分 ReLU 层几乎全部输出 0，梯度无法通过它们。');
  } else {
    en.push(`Healthy: gradient norm ${fmt(n.gradNormStart)} -> ${fmt(n.gradNormEnd)}, first/last layer relative gradient ratio ${fmt(n.depthRatio)}, no non-finite values.`);
    zh.push(`健康：梯度范数 ${fmt(n.gradNormStart)} -> ${fmt(n.gradNormEnd)}，第一层与最后一层相对梯度之比 ${fmt(n.depthRatio)}，没有非有限值。`);
  }
  if (unscaled) {
    en.push(`Note: input pixels reach ${fmt(n.inputMax)}; d2l scales them to [0, 1]. Unscaled 0-255 inputs make the first layer's outputs and gradients ~255x larger.`);
    zh.push(`注意：输入像素最大达到 ${fmt(n.inputMax)}；d2l 会把像素缩放到 [0, 1]。未缩放的 0-255 输入会让第一层的输出和梯度大约放大 255 倍。`);
  }
  return { en: en.join(' '), zh: zh.join('') };
}

function rankFixes(run: Health, c: VerdictContext, unscaled: boolean): Fix[] {
  const f: Fix[] = [];
  if (unscaled) f.push({ fix: 'scale-pixels', en: 'Scale input pixels to [0, 1] (divide by 255) as d2l does.', zh: '像 d2l 一样把输入像素缩放到 [0, 1]（除以 255）。' });
  if (run === 'exploding') {
    if (c.bn === 'none') f.push({ fix: 'bn=builtin', en: 'Add batch normalization after each conv/linear layer (--fix bn=builtin or bn=scratch): it re-centres and re-scales every layer\'s output, so large weights no longer compound.', zh: '在每个卷积/全连接层之后加入批量归一化（--fix bn=builtin 或 bn=scratch）：它把每层输出重新中心化和缩放，大权重不再层层累积。' });
    f.push({ fix: `lr=${+(c.lr / 10).toPrecision(3)}`, en: `Lower the learning rate 10x (--fix lr=${+(c.lr / 10).toPrecision(3)}); this often only delays the blow-up.`, zh: `把学习率降低 10 倍（--fix lr=${+(c.lr / 10).toPrecision(3)}）；这往往只是推迟爆炸。` });
    f.push({ fix: 'clip=1.0', en: 'Clip the gradient norm (--fix clip=1.0): bounds each step, though it does not fix the cause.', zh: '裁剪梯度范数（--fix clip=1.0）：限制每一步的大小，但不解决根本原因。' });
    f.push({ fix: 'warmup=500', en: 'Warm the learning rate up over the first steps (--fix warmup=500).', zh: '在最初的若干步中逐步增大学习率（--fix warmup=500）。' });
    if (c.init !== 'xavier') f.push({ fix: 'init=xavier', en: 'Use d2l\'s Xavier initialization (--fix init=xavier).', zh: '使用 d2l 的 Xavier 初始化（--fix init=xavier）。' });
  } else if (run === 'vanishing') {
    if (c.bn === 'none') f.push({ fix: 'bn=builtin', en: 'Add batch normalization (--fix bn=builtin): it keeps each layer\'s pre-activations near zero, where sigmoid\'s slope is largest.', zh: '加入批量归一化（--fix bn=builtin）：它让每层的输入保持在 0 附近，那里 sigmoid 的斜率最大。' });
    if (c.activation === 'sigmoid') f.push({ fix: 'activation=relu', en: 'Use ReLU (derivative 1 for positive inputs) instead of sigmoid.', zh: '用 ReLU（正输入的导数为 1）代替 sigmoid。' });
    if (c.init !== 'xavier') f.push({ fix: 'init=xavier', en: 'Use Xavier initialization.', zh: '使用 Xavier 初始化。' });
  } else if (run === 'dead-relu') {
    f.push({ fix: `lr=${+(c.lr / 10).toPrecision(3)}`, en: 'Lower the learning rate: a large step can push units permanently negative.', zh: '降低学习率：过大的更新会让神经元永久落入负区间。' });
    if (c.bn === 'none') f.push({ fix: 'bn=builtin', en: 'Add batch normalization.', zh: '加入批量归一化。' });
  }
  return f;
}
