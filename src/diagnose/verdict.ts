// Verdict: which failure mode a run is in, measured from its probes, loss and accuracy, and the
// chain of events that led there, each with the step where it began. The thresholds are named
// here and each has a reason that does not depend on any particular run:
//   chance       the loss of guessing is ln(C) for C classes; accuracy is at chance when it is
//                within CHANCE_SIGMAS binomial standard errors of 1/C over the last window.
//   LOSS_BLOWUP  a loss this many times ln(C) is an order of magnitude worse than guessing.
//   EXPLODE_GROWTH  gradient or weight norms grown by two orders of magnitude.
//   VANISH_DEPTH_RATIO  the first weighted layer's relative gradient two orders of magnitude
//                below the last one's: early layers barely move while the last ones learn.
//   DEAD_FRACTION  a ReLU layer outputs exact zeros for >99% of its values.
//   SATURATED_FRACTION  most (>half) of a sigmoid/tanh layer's outputs sit in the saturation
//                band (layers.ts: slope <= 1% of its peak).
//   UPDATE_RATIO_HIGH  lr*|grad|/|w| of a layer on one step; ~1e-3 is the usual healthy scale
//                (CS231n); at 1 a single step moved the weights by as much as their own norm:
//                what the layer had learnt is overwritten, so the lr is too high by any measure.
//   UNSCALED_INPUT_MAX  d2l's ToTensor gives pixels in [0, 1]; larger inputs are raw bytes.
// Modes, checked in this order (the first that holds is the primary mode; the chain can name
// the others): non-finite, blew-up-died, saturated, exploding, dead-relu, vanishing, stuck,
// oscillating, healthy.
import { FIELD, NF } from './fields.js';
import { History, median, type HistoryRow } from './history.js';
import type { NonFiniteReport } from './report.js';
import type { LayerMeta } from './layers.js';
import { saturates, netActivation, netNormalizes } from './layers.js';
import { describe, type Sentence } from './verdict-text.js';
import { fmt } from './format.js';
import { rankFixes, type Fix, type DoctorRow } from './fixes.js';

export type { Fix, DoctorRow } from './fixes.js';

import { WINDOW, EXPLODE_GROWTH, LOSS_BLOWUP, VANISH_DEPTH_RATIO, DEAD_FRACTION, SATURATED_FRACTION, UPDATE_RATIO_HIGH, CHANCE_SIGMAS, UNSCALED_INPUT_MAX, SPIKE_FACTOR } from './thresholds.js';

export * from './thresholds.js';

export const MODES = ['healthy', 'non-finite', 'exploding', 'blew-up-died', 'stuck', 'vanishing', 'saturated', 'dead-relu', 'oscillating'] as const;
export type Health = (typeof MODES)[number];
/** Likely causes a verdict can name (stuck, exploding, ...): each is measured, never assumed. */
export type Cause = 'unscaled-input' | 'lr-too-high' | 'init-vanishing' | 'vanishing-depth' | 'saturated' | 'dead-units' | 'init-large';

export interface LayerVerdict { name: string; alias: string; kind: string; verdict: Health; note: string }
/** One link of the chain: what happened and the step it began at (null: over the whole run). */
export interface ChainLink { part: string; step: number | null; en: string; zh: string }
export interface Verdict {
  run: Health;
  diverged: boolean;
  causes: Cause[];
  chain: ChainLink[];
  layers: LayerVerdict[];
  numbers: Record<string, number>;
  text: { en: string; zh: string };
  fixes: Fix[];
}

export interface VerdictContext {
  layers: readonly (Pick<LayerMeta, 'name' | 'alias' | 'kind' | 'hasWeight' | 'activation'> & Partial<Pick<LayerMeta, 'normalizes'>>)[];
  report: NonFiniteReport | null;
  lr: number;
  /** SGD momentum (0 or absent: plain SGD); a steady step is then lr / (1 - momentum). */
  momentum?: number;
  bn: string;
  /** The architecture knobs the model takes (knobsOf: a zoo net's; none for a model file); absent: all. */
  takes?: readonly string[];
  init: string;
  /** The configured activation; the layers' own metadata wins when they have one. */
  activation?: string;
  classes?: number;
  /** Early-warning events (first one first), if any. */
  warnings?: readonly { step: number; en: string; zh: string }[];
  /** The doctor's trials of this run: fixes are then ranked by what held. */
  doctor?: readonly DoctorRow[];
}

/** Everything the modes are decided from: plain numbers, also stored with the verdict. */
export interface Measures {
  lnC: number; chanceAcc: number; accBand: number;
  lossStart: number; lossEnd: number; lossMax: number; lossMaxStep: number; accEnd: number;
  gradNormStart: number; gradNormEnd: number; gradNormMax: number; gradNormMaxStep: number;
  weightGrowth: number; depthRatio: number; updateRatio: number; updateRatioPeak: number; updateRatioPeakStep: number; inputMax: number;
  blowupStep: number; blowupBy: 'loss' | 'grad' | null; spikes: number; firstSpikeStep: number;
  atChance: boolean; steps: number; lastStep: number;
  dead: { i: number; frac: number; since: number }[];
  saturated: { i: number; frac: number; since: number }[];
  /** Weighted layers (not the last) whose relative gradient is under VANISH_DEPTH_RATIO x the last's (nets without BN). */
  slow: { i: number; ratio: number }[];
  logitStd: number; firstActStd: number;
}

const finite = (xs: number[]): number[] => xs.filter(Number.isFinite);
const at = (r: HistoryRow, i: number, f: keyof typeof FIELD): number => r.values[i * NF + FIELD[f]];

/** First step from which `ok` holds on every later row (NaN if it does not hold at the end). */
function since(rows: readonly HistoryRow[], ok: (r: HistoryRow) => boolean): number {
  let s = NaN;
  for (let k = rows.length - 1; k >= 0 && ok(rows[k]); k--) s = rows[k].step;
  return s;
}

export function measure(h: History, c: VerdictContext): Measures {
  const rows = h.rows;
  const C = c.classes ?? 10;
  const lnC = Math.log(C);
  const w = Math.min(WINDOW, Math.max(1, Math.floor(rows.length / 3)));
  const first = rows.slice(0, w);
  const fin = rows.filter((r) => Number.isFinite(r.loss) && Number.isFinite(r.gradNorm));
  const last = fin.slice(-w);
  const losses = rows.map((r) => r.loss);
  const lossStart = median(finite(first.map((r) => r.loss)));
  const lossEnd = median(finite(last.map((r) => r.loss)));
  let lossMax = -Infinity, lossMaxStep = NaN, gradNormMax = -Infinity, gradNormMaxStep = NaN;
  for (const r of fin) {
    if (r.loss > lossMax) { lossMax = r.loss; lossMaxStep = r.step; }
    if (r.gradNorm > gradNormMax) { gradNormMax = r.gradNorm; gradNormMaxStep = r.step; }
  }
  const gradNormStart = median(finite(first.map((r) => r.gradNorm)));
  const gradNormEnd = median(finite(last.map((r) => r.gradNorm)));
  // Accuracy over the last window, pooled over its examples.
  const accRows = last.filter((r) => r.n > 0 && Number.isFinite(r.acc));
  const n = accRows.reduce((s, r) => s + r.n, 0);
  const accEnd = n ? accRows.reduce((s, r) => s + r.acc * r.n, 0) / n : NaN;
  const chanceAcc = 1 / C;
  const accBand = n ? CHANCE_SIGMAS * Math.sqrt((chanceAcc * (1 - chanceAcc)) / n) : NaN;
  // Without accuracies, "at chance" falls back to the loss sitting at ln(C) (within 5%).
  const atChance = last.length > 0 && (n ? accEnd <= chanceAcc + accBand : Math.abs(lossEnd / lnC - 1) < 0.05);

  const weighted = c.layers.map((l, i) => ({ l, i })).filter((x) => x.l.hasWeight);
  let weightGrowth = NaN, depthRatio = NaN, updateRatio = NaN, updateRatioPeak = NaN, updateRatioPeakStep = NaN;
  // The largest relative update of any weighted layer on a step.
  const stepRatio = (r: HistoryRow): number => Math.max(...weighted.map(({ i }) => at(r, i, 'update_ratio')).filter(Number.isFinite));
  if (weighted.length && fin.length) {
    weightGrowth = Math.max(...weighted.map(({ i }) => median(last.map((r) => at(r, i, 'w_norm'))) / median(first.map((r) => at(r, i, 'w_norm')))).filter((x) => !Number.isNaN(x)));
    updateRatio = median(last.map(stepRatio));
    for (const r of fin) { const u = stepRatio(r); if (!(u <= updateRatioPeak)) { updateRatioPeak = u; updateRatioPeakStep = r.step; } }
  }
  // With batch normalization after a layer its output does not depend on the weights' scale,
  // so its relative gradient falls as 1/|w|^2 while the weights grow: a ratio that says nothing
  // about the signal. The depth comparison is only made for nets without BN.
  const slow: Measures['slow'] = [];
  if (weighted.length >= 2 && fin.length && !netNormalizes(c.layers, c.bn)) {
    const rel = (i: number) => median(fin.map((r) => at(r, i, 'grad_w_norm') / at(r, i, 'w_norm')));
    const lastRel = rel(weighted[weighted.length - 1].i);
    // Each weighted layer but the last against the last; the first one's is the run-level depth ratio.
    const ratios = weighted.slice(0, -1).map(({ i }) => ({ i, ratio: rel(i) / lastRel }));
    depthRatio = ratios[0].ratio;
    slow.push(...ratios.filter((x) => x.ratio < VANISH_DEPTH_RATIO));
  }
  const lastLayer = c.layers.length - 1;
  const logitStd = lastLayer >= 0 ? median(last.map((r) => at(r, lastLayer, 'act_std'))) : NaN;
  const firstActStd = weighted.length ? median(last.map((r) => at(r, weighted[0].i, 'act_std'))) : NaN;

  const blown = (r: HistoryRow) => r.loss >= LOSS_BLOWUP * lnC || r.gradNorm >= EXPLODE_GROWTH * gradNormStart;
  const blowRow = rows.find((r) => Number.isFinite(r.loss) && blown(r));
  const blowupStep = blowRow?.step ?? NaN;
  const blowupBy = blowRow ? (blowRow.loss >= LOSS_BLOWUP * lnC ? 'loss' : 'grad') : null;
  // A spike is an excursion above twice the recent median (and above ln C) that comes back
  // below that level: a loss that jumps and stays up is a level shift, not an oscillation.
  let spikes = 0, firstSpikeStep = NaN, level = NaN, start = NaN;
  for (let k = 1; k < rows.length; k++) {
    const l = rows[k].loss;
    if (Number.isNaN(level)) {
      const t = Math.max(SPIKE_FACTOR * median(finite(losses.slice(Math.max(0, k - WINDOW), k))), lnC);
      if (l > t) { level = t; start = rows[k].step; }
    } else if (l < level) {
      spikes++;
      if (Number.isNaN(firstSpikeStep)) firstSpikeStep = start;
      level = NaN;
    }
  }
  const dead: Measures['dead'] = [];
  const saturated: Measures['saturated'] = [];
  c.layers.forEach((l, i) => {
    if (l.activation === 'relu') {
      const frac = median(last.map((r) => at(r, i, 'act_zero_frac')));
      if (frac > DEAD_FRACTION) dead.push({ i, frac, since: since(rows, (r) => at(r, i, 'act_zero_frac') > DEAD_FRACTION) });
    }
    if (saturates(l)) {
      const frac = median(last.map((r) => at(r, i, 'act_sat_frac')));
      if (frac > SATURATED_FRACTION) saturated.push({ i, frac, since: since(rows, (r) => at(r, i, 'act_sat_frac') > SATURATED_FRACTION) });
    }
  });
  // The worst layer first; among equals the one that went first.
  const order = (a: { frac: number; since: number }, b: { frac: number; since: number }) => (a.since || Infinity) - (b.since || Infinity) || b.frac - a.frac;
  dead.sort(order);
  saturated.sort(order);
  return {
    lnC, chanceAcc, accBand, lossStart, lossEnd, lossMax, lossMaxStep, accEnd, gradNormStart, gradNormEnd, gradNormMax, gradNormMaxStep,
    weightGrowth, depthRatio, updateRatio, updateRatioPeak, updateRatioPeakStep, inputMax: h.inputMax, blowupStep, blowupBy, spikes, firstSpikeStep, atChance,
    steps: rows.length, lastStep: rows[rows.length - 1]?.step ?? 0, dead, saturated, slow, logitStd, firstActStd,
  };
}

/** The primary mode and the measured causes behind it. */
export function classify(m: Measures, c: VerdictContext): { run: Health; causes: Cause[] } {
  const unscaled = m.inputMax > UNSCALED_INPUT_MAX;
  const blewUp = !Number.isNaN(m.blowupStep) || m.weightGrowth >= EXPLODE_GROWTH;
  const explodingNow = m.lossEnd >= LOSS_BLOWUP * m.lnC || m.gradNormEnd >= EXPLODE_GROWTH * m.gradNormStart || m.weightGrowth >= EXPLODE_GROWTH;
  const lrHigh = m.updateRatioPeak >= UPDATE_RATIO_HIGH || m.spikes >= 2;
  // Units die on a big step: what counts is the largest update up to the death, not after it.
  const deathStep = Math.min(...m.dead.map((d) => d.since).filter(Number.isFinite));
  const lrKilled = m.updateRatioPeak >= UPDATE_RATIO_HIGH && !(m.updateRatioPeakStep > deathStep);
  const act = netActivation(c.layers) ?? c.activation ?? null;
  const saturating = act === 'sigmoid' || act === 'tanh';
  const causes: Cause[] = [];
  const add = (k: Cause, when: boolean): void => { if (when && !causes.includes(k)) causes.push(k); };
  add('unscaled-input', unscaled);
  let run: Health;
  if (c.report) {
    run = 'non-finite';
    add('init-large', /^normal:/.test(c.init) && m.lossStart >= LOSS_BLOWUP * m.lnC);
    add('lr-too-high', lrHigh);
  } else if (blewUp && m.dead.length) {
    run = 'blew-up-died';
    add('init-large', /^normal:/.test(c.init) && m.lossStart >= LOSS_BLOWUP * m.lnC);
    add('lr-too-high', lrHigh || lrKilled);
    add('dead-units', true);
  } else if (m.saturated.length && (m.atChance || m.lossEnd > m.lnC)) {
    run = 'saturated';
    add('lr-too-high', lrHigh || m.lossEnd >= LOSS_BLOWUP * m.lnC);
    add('vanishing-depth', m.depthRatio < VANISH_DEPTH_RATIO);
  } else if (explodingNow) {
    run = 'exploding';
    add('init-large', /^normal:/.test(c.init) && m.lossStart >= LOSS_BLOWUP * m.lnC);
    add('lr-too-high', lrHigh);
  } else if (m.dead.length) {
    run = 'dead-relu';
    add('lr-too-high', lrHigh || lrKilled);
  } else if (m.depthRatio < VANISH_DEPTH_RATIO && (saturating || !m.atChance)) {
    run = 'vanishing';
  } else if (m.atChance) {
    run = 'stuck';
    add('lr-too-high', lrHigh);
    add('vanishing-depth', m.depthRatio < VANISH_DEPTH_RATIO);
    // Raw pixels inflate the first layer's spread, so the ratio says nothing about the init then.
    add('init-vanishing', !unscaled && m.logitStd < VANISH_DEPTH_RATIO * m.firstActStd);
  } else if (m.spikes >= 2) {
    run = 'oscillating';
    add('lr-too-high', true);
  } else run = 'healthy';
  return { run, causes };
}

function layerVerdicts(h: History, m: Measures, c: VerdictContext, run: Health): LayerVerdict[] {
  const w = Math.min(WINDOW, Math.max(1, Math.floor(h.rows.length / 3)));
  return c.layers.map((l, i) => {
    let v: Health = 'healthy';
    let note = '';
    const d = m.dead.find((x) => x.i === i);
    const s = m.saturated.find((x) => x.i === i);
    if (d) { v = 'dead-relu'; note = `${+(d.frac * 100).toPrecision(3)}% of outputs are exactly 0`; }
    if (s) { v = 'saturated'; note = `${+(s.frac * 100).toPrecision(3)}% of outputs pinned at the ends of their range`; }
    if (l.hasWeight) {
      const g = h.field(i, 'grad_w_norm');
      const a = median(finite(g.slice(0, w)));
      const b = median(finite(g.slice(-w)));
      if (b / a > EXPLODE_GROWTH || (c.report?.layer === l.name)) { v = c.report?.layer === l.name ? 'non-finite' : 'exploding'; note = `weight-gradient norm ${fmt(a)} -> ${fmt(b)}`; }
      else if (run === 'vanishing' || run === 'stuck') {
        const sl = m.slow.find((x) => x.i === i);
        if (sl) { v = 'vanishing'; note = `relative gradient ${sl.ratio.toExponential(1)}x the last layer's`; }
      }
    }
    return { name: l.name, alias: l.alias, kind: l.kind, verdict: v, note };
  });
}

export function verdict(h: History, c: VerdictContext): Verdict {
  const m = measure(h, c);
  const { run, causes } = classify(m, c);
  const { chain, text } = describe(run, causes, m, c);
  const numbers: Record<string, number> = {
    lnClasses: m.lnC, lossStart: m.lossStart, lossEnd: m.lossEnd, lossMax: m.lossMax, accEnd: m.accEnd,
    gradNormStart: m.gradNormStart, gradNormEnd: m.gradNormEnd, gradNormMax: m.gradNormMax, gradNormGrowth: m.gradNormEnd / m.gradNormStart,
    weightGrowth: m.weightGrowth, depthRatio: m.depthRatio, updateRatio: m.updateRatio, updateRatioPeak: m.updateRatioPeak, updateRatioPeakStep: m.updateRatioPeakStep, inputMax: m.inputMax, spikes: m.spikes,
    logitStd: m.logitStd,
  };
  return { run, diverged: c.report !== null, causes, chain, layers: layerVerdicts(h, m, c, run), numbers, text,
    fixes: rankFixes(run, causes, c, c.doctor) };
}

export type { Sentence };
