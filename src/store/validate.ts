// Runtime checks for values that reach the store from untyped places (CLI
// flags, JSON configs): the TypeScript unions alone do not stop them.

import {
  EVENT_KINDS,
  RUN_KINDS,
  RUN_STATUSES,
  SWEEP_STATUSES,
  type EventKind,
  type RunKind,
  type RunStatus,
  type StepRange,
  type SweepStatus,
} from './types.js';

function oneOf<T extends string>(allowed: readonly T[], what: string, v: string): T {
  if (!(allowed as readonly string[]).includes(v)) {
    throw new Error(`invalid ${what} ${JSON.stringify(v)}; expected one of ${allowed.join(', ')}`);
  }
  return v as T;
}

export const checkRunKind = (v: string): RunKind => oneOf(RUN_KINDS, 'run kind', v);
export const checkRunStatus = (v: string): RunStatus => oneOf(RUN_STATUSES, 'run status', v);
export const checkEventKind = (v: string): EventKind => oneOf(EVENT_KINDS, 'event kind', v);
export const checkSweepStatus = (v: string): SweepStatus => oneOf(SWEEP_STATUSES, 'sweep status', v);

/** [from, to, every] as SQL parameters; the bounds are inclusive. */
export function rangeParams(r: StepRange = {}): [number, number, number] {
  const every = r.every ?? 1;
  if (!Number.isInteger(every) || every < 1) throw new Error(`every must be a positive integer, got ${every}`);
  return [r.from ?? Number.MIN_SAFE_INTEGER, r.to ?? Number.MAX_SAFE_INTEGER, every];
}
