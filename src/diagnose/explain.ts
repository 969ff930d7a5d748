// Plain-language explanations of a locator report, in English and Chinese, tied to the
// numbers of the run: where it broke, how it got there, and why (the mechanism).
import type { NonFiniteReport } from './report.js';
import { fmt, growth } from './format.js';
import { explodeMechanism } from './verdict-text.js';

export type Lang = 'en' | 'zh';
type Body = Omit<NonFiniteReport, 'explanation'>;

function trend(r: Body): { en: string; zh: string } {
  const a = r.trail.actMax.filter(Number.isFinite);
  const g = r.trail.gradNorm.filter(Number.isFinite);
  const n = r.trail.steps.length;
  if (n < 2 || (a.length < 2 && g.length < 2)) {
    return { en: 'It broke on one of the first steps, before any history existed: a sudden failure.',
      zh: '它在最初的几步就出错了，没有可供比较的历史：这是一次突然的失败。' };
  }
  const a0 = a[0], a1 = a[a.length - 1], g0 = g[0], g1 = g[g.length - 1];
  const gr = g1 / g0;
  const sudden = !(gr > 10) && !(a1 / a0 > 10);
  const en = `Over the previous ${n} steps this layer's max |activation| went ${fmt(a0)} -> ${fmt(a1)} (${growth(a0, a1)}) and its gradient norm ${fmt(g0)} -> ${fmt(g1)} (${growth(g0, g1)}): ${sudden ? 'a sudden failure, not a slow build-up' : 'a gradual explosion'}.`;
  const zh = `在此前的 ${n} 步中，该层的最大激活值 |a| 从 ${fmt(a0)} 变为 ${fmt(a1)}（${growth(a0, a1)}），梯度范数从 ${fmt(g0)} 变为 ${fmt(g1)}（${growth(g0, g1)}）：${sudden ? '这是突然的失败，而不是逐步累积' : '这是一个逐步发生的梯度爆炸'}。`;
  return { en, zh };
}

/** The network that ran, as far as the mechanism depends on it. */
export interface NetInfo { activation: string | null; /** BN anywhere in the net (netNormalizes). */ normalized: boolean }

export function explain(r: Body, net: NetInfo = { activation: 'relu', normalized: false }): { en: string; zh: string } {
  const where = r.layer === null ? r.alias : `${r.alias} (layer ${r.layer}, ${r.layerKind})`;
  const whereZh = r.layer === null ? r.alias : `${r.alias}（第 ${r.layer} 层，${r.layerKind}）`;
  const c = `${r.counts.nan} NaN, ${r.counts.posInf} +Inf, ${r.counts.negInf} -Inf`;
  const head = `Step ${r.step} (epoch ${r.epoch + 1}, batch ${r.batch}), ${r.pass} pass: the first non-finite value is the ${r.tensor} of ${where}, from op ${r.op} (${c}).`;
  const headZh = `第 ${r.step} 步（第 ${r.epoch + 1} 轮，第 ${r.batch} 个批次），${passZh(r.pass)}：第一个非有限值出现在 ${whereZh} 的 ${r.tensor}，由算子 ${r.op} 产生（${c}）。`;
  const d = r.detail;
  let why = '', whyZh = '';
  if (r.pass === 'input') {
    why = 'The input batch itself holds NaN/Inf: the data, not the network, is at fault.';
    whyZh = '输入批次本身就含有 NaN/Inf：问题出在数据上，而不是网络。';
  } else if (r.pass === 'forward' && r.tensor !== 'output') {
    why = `Its ${r.tensor} already held non-finite values when the forward pass reached it, so the layer could only propagate them.`;
    whyZh = `前向传播到达该层时，它的 ${r.tensor} 已经含有非有限值，因此该层只能把它们传下去。`;
  } else if (r.pass === 'forward') {
    why = `Its input was finite (max |x| = ${fmt(Number(d.inputMaxAbs))}) and so were its weights (max |w| = ${fmt(Number(d.weightMaxAbs ?? NaN))}): the ${r.op} sums overflowed float32.`;
    whyZh = `它的输入是有限的（最大 |x| = ${fmt(Number(d.inputMaxAbs))}），权重也是有限的（最大 |w| = ${fmt(Number(d.weightMaxAbs ?? NaN))}）：${r.op} 的求和超出了 float32 的范围。`;
  } else if (r.pass === 'loss') {
    why = `Every layer's output was finite but the loss was ${fmt(Number(d.loss))} (max |logit| = ${fmt(Number(d.logitsMaxAbs))}): the logits are so large that log-softmax loses all precision.`;
    whyZh = `所有层的输出都是有限的，但损失为 ${fmt(Number(d.loss))}（最大 |logit| = ${fmt(Number(d.logitsMaxAbs))}）：logits 太大，log-softmax 失去了全部精度。`;
  } else if (r.pass === 'backward') {
    why = `The forward pass and the loss were finite; the gradient arriving at this layer was finite (norm ${fmt(Number(d.gradOutNorm ?? NaN))}), and this layer's backward turned it into ${r.tensor} with Inf/NaN, multiplying it by weights up to ${fmt(Number(d.weightMaxAbs ?? NaN))}.`;
    whyZh = `前向传播和损失都是有限的；到达该层的梯度是有限的（范数 ${fmt(Number(d.gradOutNorm ?? NaN))}），而该层的反向传播把它乘以最大为 ${fmt(Number(d.weightMaxAbs ?? NaN))} 的权重后，得到含 Inf/NaN 的 ${r.tensor}。`;
  } else {
    why = `Gradients were finite, but the SGD step (lr ${fmt(Number(d.lr))}, max |grad| ${fmt(Number(d.gradMaxAbs))}) pushed the ${r.tensor} past float32's range.`;
    whyZh = `梯度是有限的，但 SGD 更新（学习率 ${fmt(Number(d.lr))}，最大 |grad| ${fmt(Number(d.gradMaxAbs))}）把 ${r.tensor} 推出了 float32 的范围。`;
  }
  const t = trend(r);
  const mech = r.pass === 'input' ? { en: '', zh: '' } : explodeMechanism(net.activation, net.normalized);
  return { en: [head, why, t.en, mech.en].filter(Boolean).join(' '), zh: [headZh, whyZh, t.zh, mech.zh].filter(Boolean).join('') };
}

function passZh(p: NonFiniteReport['pass']): string {
  return { input: '输入数据', forward: '前向传播', loss: '损失计算', backward: '反向传播', update: '参数更新' }[p];
}
