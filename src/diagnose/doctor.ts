// The doctor's judgement, without processes or files: which fixes to try for a verdict, what
// each costs, whether a trial held, and which fix to recommend. src/cli/doctor.ts runs the
// trials and stores what this decides.
import type { DoctorRow, Fix } from './fixes.js';
import type { Health } from './verdict.js';

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

/** The cheapest fix that held (a healthy verdict before any other), lower loss breaking ties. */
export function recommend(rows: readonly DoctorRow[]): DoctorRow | null {
  const held = rows.filter((r) => r.held);
  if (!held.length) return null;
  const rank = (r: DoctorRow) => (r.verdict === 'healthy' ? 0 : 1);
  return [...held].sort((a, b) => rank(a) - rank(b) || a.cost - b.cost || a.loss - b.loss)[0];
}
