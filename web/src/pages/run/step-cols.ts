// The run page's local copy of the step columns: appended live, thinned when it grows
// past what the charts need, so a long run does not grow the tab without bound.

import { STEP_KEYS } from '../../../../src/store/step-columns.js';
import type { StepsResponse } from '../../source.js';

export type StepCols = StepsResponse['cols'];

/** Points kept in the browser; past this the oldest half is thinned. */
export const MAX_LOCAL_STEPS = 8000;

export function emptyCols(): StepCols {
  return Object.fromEntries(STEP_KEYS.map((k) => [k, []])) as unknown as StepCols;
}

export function appendCols(a: StepCols, b: StepCols): void {
  const last = a.step.length ? a.step[a.step.length - 1] : -Infinity;
  for (let i = 0; i < b.step.length; i++) {
    if (b.step[i] <= last) continue; // already have it (reconnect overlap)
    for (const k of Object.keys(a) as (keyof StepCols)[]) (a[k] as unknown[]).push(b[k][i]);
  }
}

/** Halve the point count, keeping non-finite steps and the newest one. */
export function thinCols(a: StepCols): StepCols {
  const out = emptyCols();
  const n = a.step.length;
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0 || a.nonfinite[i] || i === n - 1 || !Number.isFinite(a.loss[i])) {
      for (const k of Object.keys(a) as (keyof StepCols)[]) (out[k] as unknown[]).push(a[k][i]);
    }
  }
  return out;
}
