// The verdict in words, English and Chinese, sentence by sentence from the same numbers: the
// chain of what happened (with the step each part began), the measured causes, and the
// mechanism for the activation the network actually used (no sigmoid talk for ReLU nets).
import { fmt } from './format.js';
import { netActivation, netNormalizes } from './layers.js';
import { UPDATE_RATIO_HIGH } from './thresholds.js';
import type { Health, Cause, ChainLink, Measures, VerdictContext } from './verdict.js';

export interface Sentence { en: string; zh: string }

const pct = (x: number): string => `${fmt(x * 100)}%`;
const times = (x: number): string => `${fmt(x)}x`;
/** A relative size: "4.3%" below 1, "57x" above. */

/** The activation-specific reason large weights blow up (used for exploding and non-finite runs). */
export function explodeMechanism(act: string | null, normalized: boolean): Sentence {
  const bnNote: Sentence = normalized
    ? { en: ' Batch normalization keeps each layer\'s outputs at a fixed scale, so here the growth is in the weights, their gradients and the logits.', zh: '批量归一化让每层的输出保持固定的尺度，所以这里增长的是权重、梯度和 logits。' }
    : { en: '', zh: '' };
  if (act === 'sigmoid' || act === 'tanh') {
    const range = act === 'sigmoid' ? '(0, 1)' : '(-1, 1)';
    return {
      en: `${act === 'sigmoid' ? 'Sigmoid' : 'Tanh'} outputs stay in ${range}, so no hidden activation can overflow by itself: what grows is the weights, each SGD step adding lr x gradient, until a weighted sum or the logits pass float32's largest value (3.4e38) and become Inf; Inf - Inf or 0 * Inf then gives NaN.${bnNote.en}`,
      zh: `${act === 'sigmoid' ? 'sigmoid' : 'tanh'} 的输出总在 ${range} 之内，隐藏层的激活本身不会溢出：增长的是权重，每一步 SGD 都加上 学习率 x 梯度，直到某个加权和或 logits 超过 float32 的最大值（3.4e38）变成 Inf，而 Inf - Inf 或 0 * Inf 就得到 NaN。${bnNote.zh}`,
    };
  }
  return {
    en: `With ReLU the derivative is 0 or 1, so nothing in the chain rule damps a large gradient: the per-layer factors (mostly the weights) multiply, big weights give big gradients, SGD makes the weights bigger still, until a sum overflows float32 (3.4e38) to Inf and Inf - Inf or 0 * Inf gives NaN.${bnNote.en}`,
    zh: `ReLU 的导数只有 0 或 1，链式法则中没有任何环节会减小一个大的梯度：各层的因子（主要是权重）相乘，权重越大梯度越大，SGD 又让权重变得更大，直到某个求和超出 float32 的范围（3.4e38）变成 Inf，而 Inf - Inf 或 0 * Inf 就得到 NaN。${bnNote.zh}`,
  };
}

function vanishMechanism(act: string | null): Sentence {
  if (act === 'sigmoid') return { en: "Sigmoid's derivative is at most 0.25, so every layer the gradient passes back through shrinks it at least 4x; after many layers the early weights barely change.", zh: 'sigmoid 的导数最大只有 0.25，梯度每向前经过一层至少缩小 4 倍；经过多层之后，前面层的权重几乎不再变化。' };
  if (act === 'tanh') return { en: "Tanh's derivative is 1 only at 0 and falls fast away from it, so each layer whose units sit away from 0 shrinks the gradient; after many layers the early weights barely change.", zh: 'tanh 的导数只在 0 处为 1，离开 0 后迅速变小，所以每经过一层输出偏离 0 的单元，梯度就被缩小；经过多层之后，前面层的权重几乎不再变化。' };
  return { en: "ReLU passes a gradient unchanged where a unit is active, so small early gradients come from small weights (the initialisation's scale) multiplying through the layers, not from the activation.", zh: 'ReLU 在单元激活时原样传递梯度，所以前面层的梯度很小是因为小的权重（初始化的尺度）逐层相乘，而不是激活函数造成的。' };
}

const C = (m: Measures): number => Math.round(1 / m.chanceAcc);

function chanceLink(m: Measures): ChainLink {
  const C = Math.round(1 / m.chanceAcc);
  const atLnC = Math.abs(m.lossEnd / m.lnC - 1) < 0.05;
  const acc = Number.isFinite(m.accEnd)
    ? { en: `accuracy ${fmt(m.accEnd)} over the last steps is chance (1/${C} = ${fmt(m.chanceAcc)})`, zh: `最后若干步的准确率 ${fmt(m.accEnd)} 只是随机猜测的水平（1/${C} = ${fmt(m.chanceAcc)}）` }
    : { en: 'the net guesses', zh: '网络在瞎猜' };
  return { part: 'chance', step: null,
    en: `${acc.en}${atLnC ? ` and the loss ${fmt(m.lossEnd)} sits at ln ${C} = ${fmt(m.lnC)}, the loss of guessing` : ''}`,
    zh: `${acc.zh}${atLnC ? `，损失 ${fmt(m.lossEnd)} 停在 ln ${C} = ${fmt(m.lnC)}，即瞎猜时的损失` : ''}` };
}

function blowupLink(m: Measures): ChainLink | null {
  if (Number.isNaN(m.blowupStep)) {
    if (!(m.weightGrowth >= 100)) return null;
    return { part: 'blow-up', step: null, en: `the weights grew ${times(m.weightGrowth)}`, zh: `权重增大了 ${times(m.weightGrowth)}` };
  }
  return { part: 'blow-up', step: m.lossMaxStep,
    en: `${m.blowupBy === 'loss' ? `the loss first passed ${fmt(10 * m.lnC)} (10x ln ${C(m)}) at step ${m.blowupStep}` : `the gradient norm first grew 100x at step ${m.blowupStep}`} and reached ${fmt(m.lossMax)} at step ${m.lossMaxStep} (${times(m.lossMax / m.lnC)} ln ${C(m)})`,
    zh: `${m.blowupBy === 'loss' ? `损失在第 ${m.blowupStep} 步首次超过 ${fmt(10 * m.lnC)}（ln ${C(m)} 的 10 倍）` : `梯度范数在第 ${m.blowupStep} 步首次增长 100 倍`}，并在第 ${m.lossMaxStep} 步达到 ${fmt(m.lossMax)}（ln ${C(m)} 的 ${times(m.lossMax / m.lnC)}）` };
}

function causeSentence(k: Cause, m: Measures, c: VerdictContext): Sentence {
  switch (k) {
    case 'unscaled-input': return {
      en: `Input pixels reach ${fmt(m.inputMax)}: d2l scales them to [0, 1]; raw 0-255 inputs make the first layer's outputs and gradients ~255x larger.`,
      zh: `输入像素最大达到 ${fmt(m.inputMax)}：d2l 会把像素缩放到 [0, 1]；未缩放的 0-255 输入会让第一层的输出和梯度大约放大 255 倍。` };
    case 'lr-too-high': {
      const spikes = m.spikes >= 2 ? { en: ` and the loss jumped above twice its recent level ${m.spikes} times (first at step ${m.firstSpikeStep})`, zh: `，损失有 ${m.spikes} 次跳到近期水平的两倍以上（第一次在第 ${m.firstSpikeStep} 步）` } : { en: '', zh: '' };
      const x = m.updateRatioPeak;
      const ratio = x >= UPDATE_RATIO_HIGH
        ? { en: `at step ${m.updateRatioPeakStep} one update moved a layer's weights by ${fmt(x)} times their own norm (about 0.001 is a healthy step)`, zh: `第 ${m.updateRatioPeakStep} 步的一次更新让某层权重移动了其自身范数的 ${fmt(x)} 倍（健康的步长约为 0.001）` }
        : { en: 'the loss does not settle', zh: '损失无法稳定' };
      // Momentum sums past gradients: a steady step is lr / (1 - momentum), so the lr alone understates it.
      const mom = c.momentum ?? 0;
      const withMom = mom > 0
        ? { en: ` with momentum ${fmt(mom)} (a steady step is ${fmt(1 / (1 - mom))}x the learning rate)`, zh: `（动量 ${fmt(mom)} 下，稳定时每步是学习率的 ${fmt(1 / (1 - mom))} 倍）` }
        : { en: '', zh: '' };
      return { en: `The learning rate ${fmt(c.lr)}${withMom.en} is too high: ${ratio.en}${spikes.en}.`, zh: `学习率 ${fmt(c.lr)}${withMom.zh}过高：${ratio.zh}${spikes.zh}。` };
    }
    case 'init-vanishing': return {
      en: `The signal fades through the layers from the initialisation (${c.init}): the logits spread ${fmt(m.logitStd)} against ${fmt(m.firstActStd)} after the first weighted layer, so the output barely depends on the image and the loss stays at ln ${Math.round(1 / m.chanceAcc)}.`,
      zh: `信号从初始化（${c.init}）开始就逐层衰减：logits 的标准差只有 ${fmt(m.logitStd)}，而第一个带权重层之后是 ${fmt(m.firstActStd)}，所以输出几乎与图像无关，损失停在 ln ${Math.round(1 / m.chanceAcc)}。` };
    case 'vanishing-depth': return m.depthRatio === 0
      ? { en: 'No gradient at all reaches the first weighted layer (0 in float32): the early layers do not move.',
        zh: '第一个带权重层完全收不到梯度（在 float32 中为 0）：前面的层一动不动。' }
      : { en: `The first weighted layer's relative gradient is ${fmt(m.depthRatio)}x the last one's: the early layers barely move.`,
        zh: `第一个带权重层的相对梯度只有最后一层的 ${fmt(m.depthRatio)} 倍：前面的层几乎不动。` };
    case 'init-large': return {
      en: `The initialisation ${c.init} starts too large: the loss is already ${fmt(m.lossStart)} on the first steps.`,
      zh: `初始化 ${c.init} 的尺度太大：最初几步的损失就已经是 ${fmt(m.lossStart)}。` };
    case 'saturated': case 'dead-units': return { en: '', zh: '' }; // told in the chain
  }
}

export function describe(run: Health, causes: Cause[], m: Measures, c: VerdictContext): { chain: ChainLink[]; text: Sentence } {
  const act = netActivation(c.layers) ?? c.activation ?? null;
  const name = (i: number) => c.layers[i].alias;
  const chain: ChainLink[] = [];
  const head: Sentence = { en: '', zh: '' };
  const tail: Sentence[] = [];
  const warn = c.warnings?.[0];
  const clause = (t: string) => t.charAt(0).toLowerCase() + t.slice(1).replace(/[.。]$/, '');
  if (warn) chain.push({ part: 'warning', step: warn.step, en: `early warning at step ${warn.step}: ${clause(warn.en)}`, zh: `第 ${warn.step} 步发出预警：${clause(warn.zh)}` });
  const blow = blowupLink(m);
  switch (run) {
    case 'non-finite': {
      const r = c.report!;
      if (blow && blow.step !== null && blow.step < r.step) chain.push(blow);
      chain.push({ part: 'non-finite', step: r.step, en: `the first non-finite value appeared at step ${r.step} in ${r.alias} (${r.pass} pass, ${r.op})`, zh: `第 ${r.step} 步在 ${r.alias} 出现第一个非有限值（${r.pass}，${r.op}）` });
      Object.assign(head, { en: 'Exploding to non-finite: the run went NaN/Inf.', zh: '梯度爆炸直至非有限值：训练出现了 NaN/Inf。' });
      tail.push(r.explanation);
      break;
    }
    case 'blew-up-died': {
      if (blow) chain.push(blow);
      const d = m.dead[0];
      const cut = d.frac >= 1;
      chain.push({ part: 'dead', step: Number.isNaN(d.since) ? null : d.since,
        en: `${cut ? `every output of ${name(d.i)} is exactly 0` : `${pct(d.frac)} of ${name(d.i)}'s outputs are exactly 0`}${Number.isNaN(d.since) ? '' : ` from step ${d.since}`}${cut ? `: everything after ${name(d.i)} sees a constant, so the net is dead` : ''}`,
        zh: `${cut ? `${name(d.i)} 的所有输出都恰好为 0` : `${name(d.i)} 有 ${pct(d.frac)} 的输出恰好为 0`}${Number.isNaN(d.since) ? '' : `（从第 ${d.since} 步起）`}${cut ? `：${name(d.i)} 之后的所有层只看到一个常数，网络已经死了` : ''}` });
      Object.assign(head, { en: 'Blew up, then died: a blow-up pushed the ReLUs into the region where they output 0 and pass no gradient.', zh: '先爆炸后死亡：一次爆炸把 ReLU 推到了输出 0、不再传递梯度的区域。' });
      break;
    }
    case 'saturated': {
      const s = m.saturated[0];
      chain.push({ part: 'saturated', step: Number.isNaN(s.since) ? null : s.since,
        en: `${pct(s.frac)} of ${name(s.i)}'s outputs are pinned at the ends of their range${Number.isNaN(s.since) ? '' : ` from step ${s.since}`}, where the slope is under 1% of its peak`,
        zh: `${name(s.i)} 有 ${pct(s.frac)} 的输出被钉在取值范围的两端${Number.isNaN(s.since) ? '' : `（从第 ${s.since} 步起）`}，那里的斜率不到峰值的 1%` });
      if (m.lossEnd > m.lnC) chain.push({ part: 'loss', step: null, en: `the loss is ${fmt(m.lossEnd)}, ${times(m.lossEnd / m.lnC)} ln ${Math.round(1 / m.chanceAcc)} (the loss of guessing)`, zh: `损失为 ${fmt(m.lossEnd)}，是 ln ${Math.round(1 / m.chanceAcc)}（瞎猜时的损失）的 ${times(m.lossEnd / m.lnC)}` });
      Object.assign(head, { en: `Saturated ${act ?? ''} units: they pass back almost no gradient, so the layers before them stop learning.`.replace('  ', ' '), zh: `${act ?? ''} 单元饱和：它们几乎不向回传递梯度，前面的层因此停止学习。` });
      break;
    }
    case 'exploding': {
      if (blow) chain.push(blow);
      chain.push({ part: 'growth', step: null, en: `the loss went ${fmt(m.lossStart)} -> ${fmt(m.lossEnd)} and the global gradient norm ${fmt(m.gradNormStart)} -> ${fmt(m.gradNormEnd)}${m.weightGrowth >= 100 ? `, the weights grew ${times(m.weightGrowth)}` : ''}, without any NaN yet`,
        zh: `损失从 ${fmt(m.lossStart)} 变为 ${fmt(m.lossEnd)}，全局梯度范数从 ${fmt(m.gradNormStart)} 变为 ${fmt(m.gradNormEnd)}${m.weightGrowth >= 100 ? `，权重增大了 ${times(m.weightGrowth)}` : ''}，还没有出现 NaN` });
      Object.assign(head, { en: 'Exploding without NaN (yet): the loss, gradients or weights are orders of magnitude too large.', zh: '爆炸但尚未出现 NaN：损失、梯度或权重大了几个数量级。' });
      tail.push(explodeMechanism(act, netNormalizes(c.layers, c.bn)));
      break;
    }
    case 'dead-relu': {
      for (const d of m.dead) {
        chain.push({ part: 'dead', step: Number.isNaN(d.since) ? null : d.since, en: `${pct(d.frac)} of ${name(d.i)}'s outputs are exactly 0${Number.isNaN(d.since) ? '' : ` from step ${d.since}`}`, zh: `${name(d.i)} 有 ${pct(d.frac)} 的输出恰好为 0${Number.isNaN(d.since) ? '' : `（从第 ${d.since} 步起）`}` });
      }
      Object.assign(head, { en: 'Dead ReLUs: units whose input stays negative output 0 and pass no gradient, so they never recover.', zh: 'ReLU 死亡：输入一直为负的单元输出 0 且不传递梯度，因此再也无法恢复。' });
      break;
    }
    case 'vanishing':
      chain.push(m.depthRatio === 0
        ? { part: 'depth', step: null, en: 'no gradient at all reaches the first weighted layer (0 in float32)', zh: '第一个带权重层完全收不到梯度（在 float32 中为 0）' }
        : { part: 'depth', step: null, en: `the first weighted layer's relative gradient is ${fmt(m.depthRatio)}x the last layer's`, zh: `第一个带权重层的相对梯度只有最后一层的 ${fmt(m.depthRatio)} 倍` });
      Object.assign(head, { en: 'Vanishing gradients with depth: the early layers barely learn.', zh: '梯度随深度消失：前面的层几乎不学习。' });
      tail.push(vanishMechanism(act));
      break;
    case 'stuck':
      Object.assign(head, { en: 'Stuck at chance: the net is not learning.', zh: '停在随机水平：网络没有在学习。' });
      if (!causes.length) tail.push({ en: `No single cause stands out in the probes: no dead or saturated layer, no blow-up, no step that rewrote the weights. After ${m.lastStep} steps the net may also simply not have started yet: d2l's own nets can sit at ln ${C(m)} for their first few hundred steps.`, zh: `探针中没有发现单一的原因：没有死亡或饱和的层，没有爆炸，也没有改写权重的更新。训练了 ${m.lastStep} 步，网络也可能只是还没有开始学习：d2l 自己的网络在最初几百步里也可能停在 ln ${C(m)}。` });
      // The first layer is the run-level depth test; deeper ones can fade while it does not (NiN's 1x1 convs).
      if (!causes.includes('vanishing-depth') && m.slow.length) {
        const lo = Math.min(...m.slow.map((x) => x.ratio)), hi = Math.max(...m.slow.map((x) => x.ratio));
        const range = lo === hi ? fmt(lo) : `${fmt(lo)}-${fmt(hi)}`;
        const names = m.slow.map((x) => name(x.i)).join(', ');
        tail.push({ en: `Still, ${names} get${m.slow.length === 1 ? 's' : ''} a relative gradient only ${range}x the last layer's: the gradient fades on its way back to ${m.slow.length === 1 ? 'it' : 'them'}.`,
          zh: `不过，${names} 的相对梯度只有最后一层的 ${range} 倍：梯度在传回这些层的途中衰减了。` });
      }
      break;
    case 'oscillating':
      chain.push({ part: 'spikes', step: m.firstSpikeStep, en: `the loss jumped above twice its recent level ${m.spikes} times, first at step ${m.firstSpikeStep}`, zh: `损失有 ${m.spikes} 次跳到近期水平的两倍以上，第一次在第 ${m.firstSpikeStep} 步` });
      Object.assign(head, { en: 'Oscillating: the loss keeps spiking instead of settling.', zh: '振荡：损失不断出现尖峰，无法稳定下降。' });
      break;
    case 'healthy':
      Object.assign(head, {
        en: `Healthy: loss ${fmt(m.lossStart)} -> ${fmt(m.lossEnd)}${Number.isFinite(m.accEnd) ? `, accuracy ${fmt(m.accEnd)}` : ''}, gradient norm ${fmt(m.gradNormStart)} -> ${fmt(m.gradNormEnd)}, no non-finite values.`,
        zh: `健康：损失 ${fmt(m.lossStart)} -> ${fmt(m.lossEnd)}${Number.isFinite(m.accEnd) ? `，准确率 ${fmt(m.accEnd)}` : ''}，梯度范数 ${fmt(m.gradNormStart)} -> ${fmt(m.gradNormEnd)}，没有非有限值。` });
      break;
  }
  if (m.atChance && run !== 'healthy' && run !== 'non-finite') chain.push(chanceLink(m));
  const causeText = causes.map((k) => causeSentence(k, m, c)).filter((s) => s.en);
  const chainText: Sentence = chain.length
    ? { en: `${cap(chain.map((l) => l.en).join('; '))}.`, zh: `${chain.map((l) => l.zh).join('；')}。` }
    : { en: '', zh: '' };
  const parts = [head, chainText, ...causeText, ...tail].filter((s) => s.en);
  return { chain, text: { en: parts.map((s) => s.en).join(' '), zh: parts.map((s) => s.zh).join('') } };
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
