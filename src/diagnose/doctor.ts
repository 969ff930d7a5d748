// The doctor's judgement, without processes or files: which fixes to try for a verdict, what
// each costs, whether a trial held, and which fix to recommend. src/cli/doctor.ts runs the
// trials and stores what this decides.
import type { DoctorRow, Fix } from './fixes.js';
import type { Health } from './verdict.js';
import { d2lNum } from './format.js';

/** Modes a trial must not end in to count as held: it is still blowing up or dead. */
export const FAILED_MODES: readonly Health[] = ['non-finite', 'exploding', 'blew-up-died', 'dead-relu'];
/** How many single fixes from the verdict's ranking are tried; pairs come from the first three. */
export const SINGLES = 5;

/**
 * What a fix costs the user, cheapest first: a different number for one hyperparameter (0),
 * fixing the data pipeline (0), a different initialisation (1), a schedule or clipping that
 * adds a knob to keep (1), a change of architecture that adds layers or compute (2).
 */
export function fixCost(fix: string): number {
  const COST: Record<string, number> = { lr: 0, 'scale-pixels': 0, init: 1, clip: 1, warmup: 1, bn: 2, activation: 2 };
  // Anything else changes the network or the recipe: priced like an architecture change.
  return fix.split('+').reduce((s, f) => s + (COST[f.split('=')[0]] ?? 2), 0);
}

/** The fix sets to try: the verdict's best singles, then the obvious pairs of its first three. */
export function candidates(fixes: readonly Pick<Fix, 'fix'>[]): string[][] {
  const singles = fixes.slice(0, SINGLES).map((f) => f.fix);
  const top = singles.slice(0, 3);
  const pairs: string[][] = [];
  for (let i = 0; i < top.length; i++) {
    for (let j = i + 1; j < top.length; j++) {
      // Two settings of one knob (lr=0.1 and lr=0.01) are not a pair.
      if (top[i].split('=')[0] !== top[j].split('=')[0]) pairs.push([top[i], top[j]]);
    }
  }
  return [...singles.map((f) => [f]), ...pairs];
}

export interface TrialOutcome {
  fix: string;
  status: string;
  firstNonFiniteStep: number | null;
  loss: number;
  acc: number;
  verdict: string;
}

export function toRow(t: TrialOutcome): DoctorRow {
  const held = t.status === 'finished' && t.firstNonFiniteStep === null && !FAILED_MODES.includes(t.verdict as Health);
  return { fix: t.fix, held, firstNonFiniteStep: t.firstNonFiniteStep, loss: t.loss, acc: t.acc, verdict: t.verdict, cost: fixCost(t.fix) };
}

/**
 * What the doctor tells the user, from recommend()'s pick. A fix that held but whose trial is not
 * healthy (still at chance, say) stayed finite without learning yet: said so, not sold as a cure.
 */
export function recommendation(best: DoctorRow | null, horizon: number, endStep: number): { en: string; zh: string } {
  if (!best) return { en: `no fix held within ${horizon} steps; try a longer --horizon or other --fix sets.`, zh: `在 ${horizon} 步内没有修复有效；可以增大 --horizon 或尝试其他 --fix。` };
  const flags = `--fix ${best.fix.split('+').join(' --fix ')}`;
  const en = `recommended: ${flags} (the cheapest fix that held: ${best.verdict}, loss ${d2lNum(best.loss)}, accuracy ${d2lNum(best.acc)} at step ${endStep}).`;
  const zh = `建议：${flags}（有效修复中代价最小的：${best.verdict}，第 ${endStep} 步时损失 ${d2lNum(best.loss)}，准确率 ${d2lNum(best.acc)}）。`;
  if (best.verdict === 'healthy') return { en, zh };
  // A net at chance may still start; one that oscillates or saturates may still settle.
  const next = best.verdict === 'stuck' ? { en: 'whether it starts to learn', zh: '它是否开始学习' } : { en: 'whether it settles', zh: '它是否稳定下来' };
  return {
    en: `${en} No trial was healthy by step ${endStep}: this one stayed finite but is ${best.verdict}; a longer --horizon shows ${next.en}.`,
    zh: `${zh}到第 ${endStep} 步没有一个试验是健康的：这个修复保持了有限值，但仍是 ${best.verdict}；增大 --horizon 可以看出${next.zh}。`,
  };
}

/** The cheapest fix that held (a healthy verdict before any other), lower loss breaking ties. */
export function recommend(rows: readonly DoctorRow[]): DoctorRow | null {
  const held = rows.filter((r) => r.held);
  if (!held.length) return null;
  const rank = (r: DoctorRow) => (r.verdict === 'healthy' ? 0 : 1);
  return [...held].sort((a, b) => rank(a) - rank(b) || a.cost - b.cost || a.loss - b.loss)[0];
}
