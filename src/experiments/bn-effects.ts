// The seed's second principle, measured: what BatchNorm does besides keeping the runs finite.
// Mu Li's lecture (the seed's "原理二"): a mini-batch is a random sample, so the mean and variance
// BN divides by are noisy; that noise controls model complexity (a regulariser); and BN's main
// practical effect is faster convergence (it tolerates a larger learning rate), not a higher
// final accuracy. Three questions, one table each, and a summary of what the numbers support:
//   convergence: the same net with and without BN on d2l's recipes, epochs to a train accuracy;
//   lr headroom: an lr ladder with and without BN, per seed;
//   mini-batch noise: BN-LeNet at batch 16, 64, 256, with the spread of the batch statistics BN
//   used (probe fields bn_mean_dev, bn_var_dev, read back from the store), against no BN.
import { baseConfig } from './scale.js';
import { byArm, ran, chanceCeiling, testSize, diverged } from './checks.js';
import { f3, sci } from './table.js';
import type { TrainConfig } from '../train/config.js';
import { check, outcome, type Cell, type CellResult, type Conclusion, type Experiment, type NamedTable, type Scale } from './types.js';
import type { Chart } from './plot.js';

/** The fixed train accuracy "converged" means here (d2l's sigmoid LeNet passes it in epoch 4 of 10, BN-LeNet in epoch 1). */
export const TARGET_TRAIN_ACC = 0.7;
/** The lr ladder: decades around d2l's 0.9 / 1.0. */
export const LADDER = [0.1, 1, 10, 100, 1000] as const;
export const BATCHES = [16, 64, 256] as const;
/** d2l's lrs at batch 256: LeNet 0.9 (6.6), BN-LeNet 1.0 (8.5). */
const LR = { none: 0.9, bn: 1.0 };

const CPU = {
  /** Convergence: all 60000 training images, 4 epochs (sigmoid LeNet passes 0.7 in epoch 4 of d2l's run here). */
  convergence: { epochs: 4, limitTrain: null, limitTest: 2000 },
  /** Ladder: one epoch of 12800 stratified images (50 steps), tested on 2000. */
  ladder: { epochs: 1, limitTrain: 12800, limitTest: 2000 },
  /** Noise: 5 epochs of 6400 images (2000 steps at batch 16, 125 at 256), tested on 2000. */
  noise: { epochs: 5, limitTrain: 6400, limitTest: 2000 },
};

const lenet = (scale: Scale, patch: Partial<TrainConfig>, cpu: Partial<TrainConfig>): TrainConfig =>
  baseConfig('lenet', scale, { ...(scale === 'cpu' ? cpu : {}), ...patch });

export const convArm = (net: string) => `convergence: ${net}`;
export const ladderArm = (lr: number, bn: string) => `ladder: lr ${lr}, bn ${bn}`;
export const noiseArm = (batch: number, bn: string) => `noise: batch ${batch}, bn ${bn}`;

/** The convergence pairs: [arm without BN, arm with BN]. AlexNet's only at full scale (10 epochs at 96x96 are ~30 min a run here). */
function convergencePairs(scale: Scale): [string, string][] {
  const pairs: [string, string][] = [[convArm('lenet sigmoid, lr 0.9, bn none'), convArm('lenet sigmoid, lr 1, bn scratch')]];
  if (scale === 'full') for (const lr of [0.01, 0.1]) pairs.push([convArm(`alexnet 96, lr ${lr}, bn none`), convArm(`alexnet 96, lr ${lr}, bn builtin`)]);
  return pairs;
}

function cells(scale: Scale, seeds: number[]): Cell[] {
  const out: Cell[] = [];
  // Convergence and noise are one seed at cpu scale (the ladder is the per-seed question).
  const few = scale === 'cpu' ? seeds.slice(0, 1) : seeds;
  for (const seed of few) {
    out.push({ arm: convArm('lenet sigmoid, lr 0.9, bn none'), seed, config: lenet(scale, { lr: LR.none, seed }, CPU.convergence) });
    out.push({ arm: convArm('lenet sigmoid, lr 1, bn scratch'), seed, config: lenet(scale, { lr: LR.bn, bn: 'scratch', seed }, CPU.convergence) });
    if (scale === 'full') {
      for (const lr of [0.01, 0.1]) for (const bn of ['none', 'builtin'] as const) {
        out.push({ arm: convArm(`alexnet 96, lr ${lr}, bn ${bn}`), seed, config: baseConfig('alexnet', scale, { resize: 96, lr, bn, seed }) });
      }
    }
  }
  for (const seed of seeds) for (const lr of LADDER) for (const bn of ['none', 'builtin'] as const) {
    out.push({ arm: ladderArm(lr, bn), seed, config: lenet(scale, { lr, bn, seed }, CPU.ladder) });
  }
  // Same epochs at every batch size; the lr scales with the batch (d2l's lr per 256 images), so
  // plain SGD's own noise (lr / batch) is the same in every cell and what changes is the noise of BN's statistics.
  for (const seed of few) for (const b of BATCHES) for (const bn of ['none', 'scratch'] as const) {
    out.push({ arm: noiseArm(b, bn), seed, config: lenet(scale, { batchSize: b, lr: (bn === 'none' ? LR.none : LR.bn) * b / 256, bn, seed }, CPU.noise) });
  }
  return out;
}

/** 1-based epoch whose train accuracy first reached the target, or null. */
export function epochsTo(r: CellResult, target = TARGET_TRAIN_ACC): number | null {
  const e = r.epochs.find((x) => (x.trainAcc ?? 0) >= target);
  return e ? e.epoch + 1 : null;
}

/** Steps in the trailing window of the per-step train accuracy (d2l's epoch accuracy is too coarse to count steps). */
export const ACC_WINDOW = 50;

/**
 * The train accuracy over the trailing window of min(ACC_WINDOW, an epoch) steps, at every step
 * from the first full window on (one batch's accuracy is too noisy to cross a line once).
 */
export function windowedAcc(r: CellResult): { step: number; acc: number }[] {
  const w = Math.max(1, Math.min(ACC_WINDOW, r.stepsPerEpoch));
  let sum = 0;
  return r.accCurve.flatMap((p, i, a) => {
    sum += p.acc - (i >= w ? a[i - w].acc : 0);
    return i >= w - 1 ? [{ step: p.step, acc: sum / w }] : [];
  });
}

/** The first step whose windowed train accuracy reached the target, or null (also for runs without per-step accuracy). */
export function stepsTo(r: CellResult, target = TARGET_TRAIN_ACC): number | null {
  return windowedAcc(r).find((p) => p.acc >= target)?.step ?? null;
}

/**
 * Whether the BN run reached the target sooner than the run without: by steps where both recorded
 * per-step accuracy, else by epochs. A run without BN that never reached it counts as later.
 */
function sooner(bn: CellResult, none: CellResult | undefined): boolean {
  const perStep = bn.accCurve.length > 0 && (!none || none.accCurve.length > 0);
  const at = (r: CellResult | undefined) => (r ? (perStep ? stepsTo(r) : epochsTo(r)) : null);
  const b = at(bn), n = at(none);
  return b !== null && (n === null || b < n);
}

const reached = (r: CellResult): string => {
  const s = stepsTo(r), e = epochsTo(r);
  const step = s === null ? (r.accCurve.length ? `not in ${r.steps} steps` : 'steps not recorded') : `step ${s}`;
  return `${step}; epoch ${e === null ? `- (not in ${r.epochs.length})` : e}`;
};
const learns = (r: CellResult): boolean => !diverged(r) && r.status === 'finished' && (r.testAcc ?? 0) > chanceCeiling(testSize(r));
const finite = (r: CellResult): boolean => !diverged(r);

/** Per seed and BN mode: the largest ladder lr that stayed finite and the largest above chance (0: none). */
export function headroom(rs: readonly CellResult[], seed: number, bn: string): { finite: number; learns: number; tried: number[] } {
  const mine = rs.filter((r) => r.seed === seed && r.arm.startsWith('ladder:') && r.arm.endsWith(`bn ${bn}`));
  const lr = (r: CellResult) => r.config.lr;
  return { finite: Math.max(0, ...mine.filter(finite).map(lr)), learns: Math.max(0, ...mine.filter(learns).map(lr)), tried: mine.map(lr).sort((a, b) => a - b) };
}
const lrText = (v: number, tried: number[]): string => (v === 0 ? 'none' : v === Math.max(...tried) ? `${v} (top of ladder)` : String(v));

type NoiseKey = 'meanDev' | 'varDev' | 'meanNoise' | 'varNoise';
/** Mean over BN layers of a noise field (one number per run, for the comparisons). */
const avgNoise = (r: CellResult, k: NoiseKey): number => r.bnNoise.reduce((s, l) => s + l[k], 0) / Math.max(1, r.bnNoise.length);
const gap = (r: CellResult): number | null => (r.trainAcc === null || r.testAcc === null ? null : r.trainAcc - r.testAcc);

function tables(rs: CellResult[]): NamedTable[] {
  const out: NamedTable[] = [];
  const conv = rs.filter((r) => r.arm.startsWith('convergence:'));
  if (conv.length) {
    out.push({
      title: `Convergence: steps until the train accuracy over the last ${ACC_WINDOW} steps reached ${TARGET_TRAIN_ACC}, and the epoch whose train accuracy (d2l's, over the epoch) did`,
      head: ['arm', 'seed', `reached ${TARGET_TRAIN_ACC} at`, 'train acc per epoch', 'final loss / train / test'],
      rows: conv.map((r) => [r.arm.slice(13), String(r.seed), diverged(r) ? `non-finite at step ${r.nanStep}` : reached(r),
        r.epochs.map((e) => f3(e.trainAcc)).join(' '), `${f3(r.loss)} / ${f3(r.trainAcc)} / ${f3(r.testAcc)}`]),
    });
  }
  const seeds = [...new Set(rs.filter((r) => r.arm.startsWith('ladder:')).map((r) => r.seed))];
  if (seeds.length) {
    const ladder = rs.filter((r) => r.arm.startsWith('ladder:'));
    out.push({
      title: `Learning-rate headroom: per seed, the largest lr that stayed finite and the largest whose test accuracy is above chance (> ${chanceCeiling(testSize(ladder[0])).toFixed(3)} on ${testSize(ladder[0])} test images)`,
      head: ['seed', 'bn', 'largest finite lr', 'largest lr above chance', 'test acc per lr (lr: acc)'],
      rows: seeds.flatMap((seed) => ['none', 'builtin'].map((bn) => {
        const h = headroom(rs, seed, bn);
        const per = ladder.filter((r) => r.seed === seed && r.arm.endsWith(`bn ${bn}`)).map((r) => `${r.config.lr}: ${diverged(r) ? `NaN@${r.nanStep}` : f3(r.testAcc)}`).join(', ');
        return [String(seed), bn, lrText(h.finite, h.tried), lrText(h.learns, h.tried), per];
      })),
    });
  }
  const noise = rs.filter((r) => r.arm.startsWith('noise:'));
  if (noise.length) {
    out.push({
      title: 'Mini-batch noise: the sampling noise of the batch mean and variance BN divided by (split-half, at each step\'s weights), their distance from BN\'s running estimate (noise plus weight drift), per BN layer, medians over the last epoch\'s steps; and the accuracies',
      head: ['batch', 'bn', 'seed', 'lr', 'steps', 'mean noise per BN layer', 'log-var noise per BN layer', 'mean distance from running estimate', 'train acc', 'test acc', 'train - test'],
      rows: noise.map((r) => {
        const per = (k: NoiseKey) => (r.bnNoise.length ? r.bnNoise.map((l) => `${l.alias} ${sci(l[k])}`).join(', ') : '-');
        return [String(r.config.batchSize), r.config.bn, String(r.seed), String(r.config.lr), String(r.steps), per('meanNoise'), per('varNoise'), per('meanDev'),
          f3(r.trainAcc), f3(r.testAcc), gap(r) === null ? '-' : (gap(r)! >= 0 ? '+' : '') + f3(gap(r))];
      }),
    });
  }
  return out;
}

/** What the numbers support, each sentence computed from the results (both languages say the same). */
function conclusion(rs: CellResult[]): Conclusion {
  const en: string[] = [], zh: string[] = [];
  for (const [a, b] of convergencePairsOf(rs)) {
    const none = byArm(rs, a), bn = byArm(rs, b);
    const faster = bn.every((r, i) => sooner(r, none[i]));
    const accA = none.map((r) => f3(r.testAcc)).join('/'), accB = bn.map((r) => f3(r.testAcc)).join('/');
    const name = a.slice(13).replace(/, bn none$/, '');
    const at = (rr: CellResult[], lang: 'en' | 'zh') => rr.map((r) => {
      const st = stepsTo(r), e = epochsTo(r);
      if (lang === 'zh') return `${st === null ? '未达到' : `第 ${st} 步`}（轮：${e === null ? '-' : e}）`;
      return `${st === null ? 'not reached' : `step ${st}`} (epoch ${e === null ? '-' : e})`;
    }).join(' / ');
    const x = bn.map((r, i) => { const sb = stepsTo(r), sn = none[i] ? stepsTo(none[i]) : null; return sb && sn ? sn / sb : null; }).filter((v): v is number => v !== null);
    const times = x.length ? ` (${x.map((v) => v.toFixed(1)).join('/')}x fewer steps)` : '';
    const timesZh = x.length ? `（步数少 ${x.map((v) => v.toFixed(1)).join('/')} 倍）` : '';
    const chance = none.some((r) => (r.testAcc ?? 0) <= chanceCeiling(testSize(r)));
    en.push(`Convergence (${name}): the train accuracy over the last ${ACC_WINDOW} steps reached ${TARGET_TRAIN_ACC} at ${at(bn, 'en')} with BN, at ${at(none, 'en')} without: ${faster ? `BN converged faster here${times}, as the lecture says` : 'BN did NOT converge faster here'}. Final test accuracy: ${accB} with BN, ${accA} without${chance ? ' (the run without BN had not left chance, so its final accuracy says nothing about a ceiling)' : ''}.`);
    zh.push(`收敛速度（${name}）：最近 ${ACC_WINDOW} 步的训练精度达到 ${TARGET_TRAIN_ACC}：加 BN 在${at(bn, 'zh')}，不加 BN 在${at(none, 'zh')}：${faster ? `这里 BN 确实加速了收敛${timesZh}，与李沐老师讲的一致` : '这里 BN 并没有加速收敛'}。最终测试精度：加 BN ${accB}，不加 ${accA}${chance ? '（不加 BN 的运行还停在随机猜测水平，它的最终精度不能说明精度上限）' : ''}。`);
  }
  const seeds = [...new Set(rs.filter((r) => r.arm.startsWith('ladder:')).map((r) => r.seed))];
  if (seeds.length) {
    const per = seeds.map((s) => ({ s, n: headroom(rs, s, 'none'), b: headroom(rs, s, 'builtin') }));
    const wider = per.filter((x) => x.b.learns > x.n.learns).length;
    const nanNone = per.filter((x) => x.n.finite < Math.max(...x.n.tried)).length, nanBn = per.filter((x) => x.b.finite < Math.max(...x.b.tried)).length;
    const list = per.map((x) => `seed ${x.s}: ${x.b.learns || 'none'} with BN, ${x.n.learns || 'none'} without`).join('; ');
    const listZh = per.map((x) => `种子 ${x.s}：加 BN ${x.b.learns || '无'}，不加 ${x.n.learns || '无'}`).join('；');
    en.push(`Learning-rate headroom: the largest lr still above chance was higher with BN for ${wider} of ${per.length} seeds (${list}). Runs that went non-finite somewhere on the ladder: ${nanNone} of ${per.length} seeds without BN, ${nanBn} with.${nanNone === 0 ? ' Sigmoid LeNet does not blow up to NaN at a large lr here: it saturates and sits at chance, so "stays finite" does not separate the two; "still learns" does.' : ''}`);
    zh.push(`学习率余量：仍高于随机水平的最大学习率，加 BN 更高的种子有 ${wider}/${per.length} 个（${listZh}）。在阶梯上出现 NaN/Inf 的种子：不加 BN ${nanNone}/${per.length}，加 BN ${nanBn}/${per.length}。${nanNone === 0 ? '这里 sigmoid 的 LeNet 在大学习率下不会变成 NaN，而是饱和、停在随机水平，所以“保持有限”区分不开两者，“还能学习”才区分得开。' : ''}`);
  }
  const noise = rs.filter((r) => r.arm.startsWith('noise:'));
  const bnAt = (b: number) => noise.filter((r) => r.config.bn !== 'none' && r.config.batchSize === b && r.bnNoise.length);
  const small = bnAt(BATCHES[0]), large = bnAt(BATCHES[BATCHES.length - 1]);
  if (small.length && large.length) {
    const m = (rr: CellResult[], k: NoiseKey) => rr.reduce((s, r) => s + avgNoise(r, k), 0) / rr.length;
    const rMean = m(small, 'meanNoise') / m(large, 'meanNoise'), rVar = m(small, 'varNoise') / m(large, 'varNoise');
    const rDev = m(small, 'meanDev') / m(large, 'meanDev');
    const g = (rr: CellResult[]) => rr.reduce((s, r) => s + (gap(r) ?? NaN), 0) / rr.length;
    const gs = g(small), gl = g(large);
    const noneAt = (b: number) => noise.filter((r) => r.config.bn === 'none' && r.config.batchSize === b);
    const noneStuck = noise.filter((r) => r.config.bn === 'none').every((r) => (r.testAcc ?? 0) <= chanceCeiling(testSize(r)));
    const ng = (b: number) => g(noneAt(b));
    const iid = Math.sqrt(BATCHES[BATCHES.length - 1] / BATCHES[0]);
    const shrinks = rMean > iid / 2 && rMean < iid * 2;
    en.push(`Mini-batch noise: at batch ${BATCHES[0]} the sampling noise of the batch mean BN divided by (its two halves compared, at the same weights) was ${rMean.toFixed(1)}x that at batch ${BATCHES[BATCHES.length - 1]} (log-variance: ${rVar.toFixed(1)}x); independent samples give sqrt(${BATCHES[BATCHES.length - 1]}/${BATCHES[0]}) = ${iid}: ${shrinks ? 'the statistics BN normalises by are a noisy sample, and the noise shrinks with the batch as sampling predicts, as the lecture says' : rMean > 1 ? 'the noise shrinks with the batch, but not at the rate independent samples give' : 'the noise did NOT shrink with the batch here'}. The distance of the batch mean from BN's running estimate, which also holds how far the weights moved over the ~10 steps that average spans, was ${rDev.toFixed(1)}x (with the lr scaled by the batch, a step at batch ${BATCHES[BATCHES.length - 1]} moves the weights further, so that measure mixes drift into the noise). Whether it regularises: train minus test accuracy was ${f3(gs)} at batch ${BATCHES[0]} and ${f3(gl)} at ${BATCHES[BATCHES.length - 1]} with BN${noneStuck ? '; the runs without BN stayed at chance in this budget, so there is no no-BN gap to compare with' : `, ${f3(ng(BATCHES[0]))} and ${f3(ng(BATCHES[BATCHES.length - 1]))} without`}. ${gs < gl ? 'A smaller gap with the noisier batch is consistent with a regulariser' : 'The noisier batch did not give a smaller gap here, so these runs do not show the regularising effect'}; with ${small.length} seed(s) and ${testSize(small[0])} test images (one standard error of a test accuracy near 0.8 is about ${Math.sqrt(0.16 / testSize(small[0])).toFixed(3)}), a difference of a few hundredths is not evidence either way.`);
    zh.push(`小批量噪音：批量 ${BATCHES[0]} 时 BN 所用批均值的抽样噪音（同一步、同一组权重下把批量分成两半相比）是批量 ${BATCHES[BATCHES.length - 1]} 时的 ${rMean.toFixed(1)} 倍（对数方差：${rVar.toFixed(1)} 倍）；独立样本的理论值为 sqrt(${BATCHES[BATCHES.length - 1]}/${BATCHES[0]}) = ${iid}：${shrinks ? 'BN 用来归一化的统计量确实是带噪音的样本，而且噪音按抽样规律随批量增大而减小，与李沐老师讲的一致' : rMean > 1 ? '噪音随批量增大而减小，但不是独立样本给出的比例' : '这里噪音并没有随批量增大而减小'}。批均值离 BN 滑动平均估计的距离（其中还包含滑动平均覆盖的约 10 步内权重的移动）为 ${rDev.toFixed(1)} 倍（学习率随批量缩放时，批量 ${BATCHES[BATCHES.length - 1]} 的一步让权重移动得更远，所以这个量把漂移混进了噪音）。是否起到正则化作用：加 BN 时训练精度减测试精度在批量 ${BATCHES[0]} 为 ${f3(gs)}，批量 ${BATCHES[BATCHES.length - 1]} 为 ${f3(gl)}${noneStuck ? '；不加 BN 的运行在这个预算内停在随机水平，没有可比较的差距' : `，不加 BN 时为 ${f3(ng(BATCHES[0]))} 和 ${f3(ng(BATCHES[BATCHES.length - 1]))}`}。${gs < gl ? '噪音更大的小批量差距更小，这与“正则化”的说法相符' : '噪音更大的小批量并没有更小的差距，这些运行没有显示出正则化效果'}；只有 ${small.length} 个种子、${testSize(small[0])} 张测试图像（精度 0.8 附近一个标准误约 ${Math.sqrt(0.16 / testSize(small[0])).toFixed(3)}），几个百分点的差别不能作为任何一方的证据。`);
  }
  return { en, zh };
}

function convergencePairsOf(rs: readonly CellResult[]): [string, string][] {
  return (['cpu', 'full'] as Scale[]).flatMap(convergencePairs).filter(([a, b], i, all) => ran(rs, a) && ran(rs, b) && all.findIndex(([x]) => x === a) === i);
}

function charts(rs: CellResult[]): [string, Chart][] {
  const conv = rs.filter((r) => r.arm.startsWith('convergence:'));
  if (!conv.length) return [];
  const label = (r: CellResult) => `${r.arm.slice(13)} s${r.seed}`;
  const group = (r: CellResult) => r.arm.replace(/, bn \w+$/, '');
  const out: [string, Chart][] = [['', {
    title: 'bn-effects: training loss per step, with and without BN (log scale)', xLabel: 'step', yLabel: 'loss', logY: true,
    series: conv.map((r) => {
      // A 20-step running mean: single-batch losses hide the trend.
      const pts = r.lossCurve.map((p, i, a) => {
        const w = a.slice(Math.max(0, i - 19), i + 1).map((q) => q.loss);
        return [p.step, w.reduce((s, v) => s + v, 0) / w.length] as [number, number];
      });
      return { label: label(r), group: group(r), points: pts, nanAt: r.nanStep };
    }),
  }]];
  if (conv.some((r) => r.accCurve.length)) {
    out.push(['acc', {
      title: `bn-effects: train accuracy over the last ${ACC_WINDOW} steps, with and without BN (target ${TARGET_TRAIN_ACC})`, xLabel: 'step', yLabel: 'train accuracy',
      series: conv.map((r) => ({ label: label(r), group: group(r), points: windowedAcc(r).map((p) => [p.step, p.acc] as [number, number]), nanAt: r.nanStep })),
    }]);
  }
  return out;
}

export const bnEffects: Experiment = {
  name: 'bn-effects',
  title: 'what else BN does: faster convergence, lr headroom, mini-batch noise',
  phenomenon: 'The seed\'s second principle (原理二), from Mu Li\'s BatchNorm lecture: a mini-batch is a random sample, so it brings noise into the network (一定程度上,这里的小批量会给网络带来一定的噪音), which controls model complexity (来控制模型复杂度); BN\'s effect is faster convergence (加速收敛), i.e. a larger usable learning rate, rather than a higher final accuracy.',
  setup: `Three questions. Convergence: d2l's sigmoid LeNet (lr 0.9) and BN-LeNet (d2l's from-scratch batch_norm, lr 1.0), batch 256; at full scale also ReLU AlexNet at 96x96 at d2l's lr 0.01 and 10x that, without BN and with the built-in BN; steps until the train accuracy over the last ${ACC_WINDOW} steps (each step's batch accuracy is stored with the step) reached ${TARGET_TRAIN_ACC}, and the epoch whose train accuracy as d2l prints it did. lr headroom: sigmoid LeNet without BN and with the built-in BN at lr ${LADDER.join(', ')}, per seed: the largest lr that stayed finite and the largest still above chance. Mini-batch noise: LeNet with d2l's from-scratch BN and without BN at batch ${BATCHES.join(', ')} for the same epochs, the lr scaled with the batch (d2l's lr x batch/256, so plain SGD's own noise lr/batch is the same in every cell); a probe on every BN layer records, per step, the sampling noise of the batch mean and variance BN divided by, from the batch's two halves at the same weights (bn_mean_noise: RMS over channels of (half-1 mean - half-2 mean)/2 / batch std, which has the variance of the full batch mean's sampling error; bn_var_noise: the same for ln(variance)), and how far they sat from BN's running estimate (bn_mean_dev, bn_var_dev: sampling noise plus the weights' drift over the ~10 steps the running average spans), stored with the run's probes and read back here.`,
  reduction: `All LeNet (28x28) on 1 thread. Convergence: all 60000 training images for ${CPU.convergence.epochs} epochs (d2l's LeNet passes ${TARGET_TRAIN_ACC} in epoch 4 here), tested on 2000; one seed; AlexNet's arms only at full scale (10 epochs at 96x96 are about half an hour a run here). Ladder: 1 epoch of 12800 stratified images (50 steps) per lr, tested on 2000, every seed: a short look, in which sigmoid LeNet without BN may not leave chance at any lr (it needs about one full epoch of 60000 at lr 0.9). Noise: ${CPU.noise.epochs} epochs of 6400 images, tested on 2000, one seed.`,
  expected: `BN reaches train accuracy ${TARGET_TRAIN_ACC} in fewer steps than the same net without BN; for every seed the largest lr still above chance is higher with BN; and the sampling noise of BN's batch mean shrinks as the batch grows (batch ${BATCHES.join(' > ')}) in every BN layer. Final accuracy and the train/test gap are reported, not asserted: the summary says what they support.`,
  defaultSeeds: { cpu: 2, full: 3 },
  cells,
  tables,
  conclusion,
  charts,
  check(results) {
    const checks = [];
    for (const [a, b] of convergencePairsOf(results)) {
      const none = byArm(results, a), bn = byArm(results, b);
      const ok = bn.every((r, i) => sooner(r, none[i]));
      checks.push(check(ok, `${b.slice(13)} reached train acc ${TARGET_TRAIN_ACC} sooner than without BN (${bn.map(reached).join('; ')} vs ${none.map(reached).join('; ')})`));
    }
    const seeds = [...new Set(results.filter((r) => r.arm.startsWith('ladder:')).map((r) => r.seed))];
    for (const s of seeds) {
      const n = headroom(results, s, 'none'), b = headroom(results, s, 'builtin');
      checks.push(check(b.learns > n.learns, `seed ${s}: largest lr above chance ${b.learns || 'none'} with BN > ${n.learns || 'none'} without`));
    }
    const noise = results.filter((r) => r.arm.startsWith('noise:') && r.config.bn !== 'none');
    for (const seed of [...new Set(noise.map((r) => r.seed))]) {
      const by = BATCHES.map((bs) => noise.find((r) => r.seed === seed && r.config.batchSize === bs)).filter((r): r is CellResult => !!r && r.bnNoise.length > 0);
      if (by.length < 2) continue;
      const layers = by[0].bnNoise.map((l) => l.alias);
      const ok = layers.every((al) => by.every((r, i) => i === 0 || (r.bnNoise.find((l) => l.alias === al)?.meanNoise ?? Infinity) < (by[i - 1].bnNoise.find((l) => l.alias === al)?.meanNoise ?? -Infinity)));
      checks.push(check(ok, `seed ${seed}: the sampling noise of the batch mean falls with the batch in every BN layer (${by.map((r) => `batch ${r.config.batchSize}: ${r.bnNoise.map((l) => sci(l.meanNoise)).join('/')}`).join('; ')})`));
    }
    return outcome(checks);
  },
};
