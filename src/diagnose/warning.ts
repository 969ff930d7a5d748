// Early warning, online: robust rolling statistics of the loss, the global gradient norm and
// each layer's max |activation|, in the spirit of llm.c's outlier detector (median/MAD z-scores
// over a window), but in log10 space, because a blow-up is multiplicative. A warning fires when
// one series is at once
//   - an outlier of its own recent history: z = (log x - median) / (1.4826 MAD) >= WARN_Z,
//   - an order of magnitude above its rolling median (x >= WARN_RATIO x median), and
//   - on course to pass float32's largest value (3.4e38) within WARN_HORIZON steps at the rate
//     it is growing,
// so ordinary noise (a noisy series has a wide MAD), slow drifts (no jump over the median) and
// harmless jumps (a loss of 30 is far from 3.4e38 at a slow rate) stay quiet. The z-score needs
// a history to mean anything: until the window is half full (the first steps, where the
// fastest blow-ups happen, and where the blow-up itself would widen the MAD) only the jump and
// the projected overflow are required. It fires once per
// run; each observation costs O(window) per series, a few microseconds for a dozen layers.
import { fmt } from './format.js';

export const WARN_WINDOW = 16;
export const WARN_Z = 6;
export const WARN_RATIO = 10;
export const WARN_HORIZON = 10;
/** A MAD below this (decades) is treated as this: a flat series must still jump to warn. */
export const WARN_MAD_FLOOR = 0.01;
const LOG_F32_MAX = Math.log10(3.4028234663852886e38);

export interface Warning {
  step: number;
  /** Which series: 'loss', 'grad_norm' or a layer alias (its max |activation|). */
  series: string;
  value: number;
  median: number;
  z: number;
  /** Steps until float32 overflow at the current growth rate. */
  stepsToOverflow: number;
  en: string;
  zh: string;
}

class Series {
  private readonly buf: number[] = [];
  private lastLog = NaN;
  constructor(readonly name: string) {}

  /** Scores a new value against the window (before adding it). null: nothing to say. */
  observe(x: number): { z: number; ratio: number; median: number; eta: number } | null {
    if (!(x > 0) || !Number.isFinite(x)) return null;
    const lx = Math.log10(x);
    let out: { z: number; ratio: number; median: number; eta: number } | null = null;
    if (this.buf.length) {
      const s = [...this.buf].sort((a, b) => a - b);
      const med = mid(s);
      const mad = mid(s.map((v) => Math.abs(v - med)).sort((a, b) => a - b));
      const z = (lx - med) / (1.4826 * Math.max(mad, WARN_MAD_FLOOR));
      // Growth per step: the last step's, or the average since the window's middle, whichever is larger.
      const rate = Math.max(lx - this.lastLog, (lx - med) / ((this.buf.length + 1) / 2));
      const eta = rate > 0 ? (LOG_F32_MAX - lx) / rate : Infinity;
      out = { z: this.buf.length >= WARN_WINDOW / 2 ? z : Infinity, ratio: 10 ** (lx - med), median: 10 ** med, eta };
    }
    this.buf.push(lx);
    if (this.buf.length > WARN_WINDOW) this.buf.shift();
    this.lastLog = lx;
    return out;
  }
}

function mid(s: readonly number[]): number {
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export class EarlyWarning {
  private readonly loss = new Series('loss');
  private readonly grad = new Series('grad_norm');
  private readonly act: Series[];
  private fired: Warning | null = null;

  constructor(readonly aliases: readonly string[]) {
    this.act = aliases.map((a) => new Series(a));
  }

  get first(): Warning | null { return this.fired; }

  /**
   * One step's numbers (actMax: each layer's max |activation|, or null on unprobed steps).
   * Returns the warning the first time one fires, null otherwise.
   */
  observe(step: number, loss: number, gradNorm: number, actMax: ArrayLike<number> | null): Warning | null {
    const cands: { s: Series; x: number; r: NonNullable<ReturnType<Series['observe']>> }[] = [];
    const look = (s: Series, x: number): void => { const r = s.observe(x); if (r) cands.push({ s, x, r }); };
    look(this.loss, loss);
    look(this.grad, gradNorm);
    if (actMax) this.act.forEach((s, i) => look(s, actMax[i]));
    if (this.fired) return null;
    const hits = cands.filter(({ r }) => r.z >= WARN_Z && r.ratio >= WARN_RATIO && r.eta <= WARN_HORIZON);
    if (!hits.length) return null;
    // Say the series closest to overflowing; name the loss's jump too when it is one of them.
    hits.sort((a, b) => a.r.eta - b.r.eta);
    const top = hits[0];
    const lossHit = hits.find((h) => h.s === this.loss);
    const eta = Math.max(1, Math.round(top.r.eta));
    const what = (h: typeof top) => (h.s === this.loss ? 'the loss' : h.s === this.grad ? 'the global gradient norm' : `${h.s.name}'s max |activation|`);
    const whatZh = (h: typeof top) => (h.s === this.loss ? '损失' : h.s === this.grad ? '全局梯度范数' : `${h.s.name} 的最大激活值`);
    const lead = lossHit ?? top;
    const z = (h: typeof top) => (Number.isFinite(h.r.z) ? `robust z ${fmt(h.r.z)}` : 'too few steps for a z-score');
    const zZh = (h: typeof top) => (Number.isFinite(h.r.z) ? `稳健 z 值 ${fmt(h.r.z)}` : '步数太少，无法计算 z 值');
    const en = `${what(lead)} is ${fmt(lead.x)}, ${fmt(lead.r.ratio)}x its rolling median ${fmt(lead.r.median)} (${z(lead)}); at this rate ${what(top)} overflows float32 in ~${eta} step${eta === 1 ? '' : 's'}.`;
    const zh = `${whatZh(lead)}为 ${fmt(lead.x)}，是其滚动中位数 ${fmt(lead.r.median)} 的 ${fmt(lead.r.ratio)} 倍（${zZh(lead)}）；按这个速度，${whatZh(top)}约 ${eta} 步后将超出 float32 的范围。`;
    this.fired = { step, series: top.s.name, value: top.x, median: top.r.median, z: top.r.z, stepsToOverflow: top.r.eta, en: cap(en), zh };
    return this.fired;
  }
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
