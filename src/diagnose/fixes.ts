// Fixes for a verdict, best first. Without evidence the order follows the mode and its measured
// causes, and only fixes that change something about the network that ran are offered (no BN
// for a BN net, no "use ReLU" for a ReLU net, no Xavier for a Xavier init). When the doctor has
// tried fixes on this run, they are ranked by what it measured instead: the fixes that held
// first (cheapest first, then by loss at the horizon), then the others by how long they lasted.
import type { Health, Cause, VerdictContext } from './verdict.js';
import { netActivation, netNormalizes } from './layers.js';

export interface Fix { fix: string; en: string; zh: string; /** What the doctor saw for this fix, when it tried it. */ evidence?: { en: string; zh: string } }

/** One doctor trial as the verdict reads it (the doctor stores more). */
export interface DoctorRow { fix: string; held: boolean; firstNonFiniteStep: number | null; loss: number; acc: number; verdict: string; cost: number }

const lrDiv = (lr: number): string => `lr=${+(lr / 10).toPrecision(3)}`;

function catalogue(c: VerdictContext): Record<string, Fix> {
  const act = netActivation(c.layers) ?? c.activation ?? 'relu';
  const sat = act === 'sigmoid' || act === 'tanh';
  const lr = lrDiv(c.lr);
  return {
    'scale-pixels': { fix: 'scale-pixels', en: 'Scale input pixels to [0, 1] (divide by 255) as d2l\'s ToTensor does (--fix scale-pixels).', zh: '像 d2l 的 ToTensor 一样把输入像素缩放到 [0, 1]（除以 255）（--fix scale-pixels）。' },
    'bn=builtin': sat
      ? { fix: 'bn=builtin', en: `Add batch normalization (--fix bn=builtin): it keeps each layer's pre-activations near zero, where ${act}'s slope is largest.`, zh: `加入批量归一化（--fix bn=builtin）：它让每层的输入保持在 0 附近，那里 ${act} 的斜率最大。` }
      : { fix: 'bn=builtin', en: 'Add batch normalization after each conv/linear layer (--fix bn=builtin or bn=scratch): it re-centres and re-scales every layer\'s output, so large weights no longer compound from layer to layer.', zh: '在每个卷积/全连接层之后加入批量归一化（--fix bn=builtin 或 bn=scratch）：它把每层输出重新中心化和缩放，大权重不再逐层累积。' },
    [lr]: { fix: lr, en: `Lower the learning rate 10x (--fix ${lr}).`, zh: `把学习率降低 10 倍（--fix ${lr}）。` },
    'clip=1': { fix: 'clip=1', en: 'Clip the global gradient norm to 1 (--fix clip=1): it bounds each step, though it does not remove the cause.', zh: '把全局梯度范数裁剪到 1（--fix clip=1）：它限制每一步的大小，但不消除原因。' },
    'warmup=100': { fix: 'warmup=100', en: 'Warm the learning rate up over the first 100 steps (--fix warmup=100): the first steps, where the weights are least adapted, are the smallest.', zh: '在前 100 步中逐步增大学习率（--fix warmup=100）：权重最不适应的最初几步，步长最小。' },
    'init=xavier': { fix: 'init=xavier', en: `Use d2l's Xavier initialization instead of ${c.init} (--fix init=xavier): it keeps each layer's output variance near its input's.`, zh: `用 d2l 的 Xavier 初始化代替 ${c.init}（--fix init=xavier）：它让每层输出的方差接近输入的方差。` },
    'activation=relu': { fix: 'activation=relu', en: `Use ReLU instead of ${act} (--fix activation=relu): its derivative is 1 for positive inputs, so it neither saturates nor shrinks the gradient.`, zh: `用 ReLU 代替 ${act}（--fix activation=relu）：它对正输入的导数为 1，既不饱和也不缩小梯度。` },
  };
}

/** The fixes, in the order the mode and causes suggest, limited to what applies to this net. */
function byMode(run: Health, causes: readonly Cause[], c: VerdictContext): string[] {
  const act = netActivation(c.layers) ?? c.activation ?? 'relu';
  const lr = lrDiv(c.lr);
  const order: string[] = [];
  if (causes.includes('unscaled-input')) order.push('scale-pixels');
  if (causes.includes('init-large') || causes.includes('init-vanishing')) order.push('init=xavier');
  if (causes.includes('lr-too-high')) order.push(lr);
  switch (run) {
    case 'non-finite': case 'exploding': case 'blew-up-died': order.push('bn=builtin', lr, 'clip=1', 'warmup=100', 'init=xavier'); break;
    case 'saturated': order.push(lr, 'bn=builtin', 'activation=relu', 'init=xavier'); break;
    case 'vanishing': order.push('bn=builtin', 'activation=relu', 'init=xavier'); break;
    case 'dead-relu': order.push(lr, 'bn=builtin', 'warmup=100'); break;
    // A smaller lr only where the probes saw one rewrite the weights (the cause, above): a net at
    // chance with healthy update sizes is not learning too little per step because of a large
    // lr (d2l's sigmoid LeNet sits at ln 10 for its first few hundred steps at lr 0.9).
    case 'stuck': order.push('bn=builtin', 'init=xavier'); break;
    case 'oscillating': order.push(lr, 'warmup=100', 'clip=1', 'bn=builtin'); break;
    case 'healthy': break;
  }
  // An architecture fix only for a net that takes that knob (a model file or d2l's ResNet builds its own layers) and lacks it.
  const takes = (k: string): boolean => c.takes === undefined || c.takes.includes(k);
  const applies = (f: string): boolean =>
    (f !== 'bn=builtin' || (!netNormalizes(c.layers, c.bn) && takes('bn'))) && (f !== 'activation=relu' || (act !== 'relu' && takes('activation'))) &&
    (f !== 'init=xavier' || c.init !== 'xavier');
  return [...new Set(order)].filter(applies);
}

export function rankFixes(run: Health, causes: readonly Cause[], c: VerdictContext, doctor?: readonly DoctorRow[]): Fix[] {
  const cat = catalogue(c);
  const fixes = byMode(run, causes, c).map((k) => cat[k]);
  return doctor?.length ? withEvidence(fixes, doctor, cat) : fixes;
}

/**
 * Fixes re-ranked by the doctor's trials: those that held first (cheapest, then lowest loss),
 * then those that failed (the longest-lasting first), then the untried ones in their order.
 */
export function withEvidence(fixes: readonly Fix[], doctor: readonly DoctorRow[], cat: Record<string, Fix> = {}): Fix[] {
  const known = new Map([...Object.entries(cat), ...fixes.map((f) => [f.fix, f] as const)]);
  const held = doctor.filter((d) => d.held).sort((a, b) => a.cost - b.cost || a.loss - b.loss);
  const failed = doctor.filter((d) => !d.held).sort((a, b) => (b.firstNonFiniteStep ?? Infinity) - (a.firstNonFiniteStep ?? Infinity));
  const tried = [...held, ...failed].map((d): Fix => {
    const flags = `--fix ${d.fix.split('+').join(' --fix ')}`;
    const base = known.get(d.fix) ?? { fix: d.fix, en: `Apply ${flags}.`, zh: `使用 ${flags}。` };
    const evidence = d.held
      ? { en: `doctor: held, loss ${+d.loss.toPrecision(3)}, accuracy ${+d.acc.toPrecision(3)} at the horizon (${d.verdict})`, zh: `诊疗：有效，到终点时损失 ${+d.loss.toPrecision(3)}，准确率 ${+d.acc.toPrecision(3)}（${d.verdict}）` }
      : { en: `doctor: did not hold${d.firstNonFiniteStep !== null ? `, non-finite at step ${d.firstNonFiniteStep}` : ` (${d.verdict})`}`, zh: `诊疗：无效${d.firstNonFiniteStep !== null ? `，第 ${d.firstNonFiniteStep} 步出现非有限值` : `（${d.verdict}）`}` };
    return { ...base, fix: d.fix, evidence };
  });
  return [...tried, ...fixes.filter((f) => !doctor.some((d) => d.fix === f.fix))];
}
