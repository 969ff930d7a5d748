// The --on-nan policy: what the training loop does after a step. It only decides (from the step's
// outcome, the configured limits and the run's counts) and the trainer applies the action, so each
// decision (a limit reached, the rollback's lr, no checkpoint to return to) is testable without a net.
import type { TrainConfig } from './config.js';

export type NanPolicy = Pick<TrainConfig, 'onNan' | 'maxSkips' | 'maxRollbacks' | 'rollbackFactor'>;

/** What the policy reads of the run: its counts so far (they survive a rollback) and where it can return to. */
export interface NanCounts {
  skips: number;
  rollbacks: number;
  /** The run's checkpoint once one is on disk in this segment (a resumed run has none until it writes one). */
  lastCheckpoint: string | null;
}

/** Why a non-finite step ends the run. */
export type StopReason = 'on-nan stop' | 'max skips' | 'max rollbacks' | 'no checkpoint';

export type NanAction =
  /** The step was finite: go on with the next batch. */
  | { kind: 'continue' }
  /** Drop the bad batch (no update was applied) and go on with the next one; skips is the new count. */
  | { kind: 'skip'; skips: number }
  /**
   * Restore `checkpoint` and continue from its position, with lr = the run's configured lr *
   * lrScale (factor^rollbacks: each rollback so far lowers it once, whichever checkpoint is
   * restored; the checkpoint's own lr may already hold earlier reductions, so it is not the base);
   * rollbacks is the new count.
   */
  | { kind: 'rollback'; checkpoint: string; rollbacks: number; lrScale: number }
  /** The run has diverged. */
  | { kind: 'stop'; why: StopReason };

export type RollbackAction = Extract<NanAction, { kind: 'rollback' }>;

export function onNanAction(step: { finite: boolean }, p: NanPolicy, n: NanCounts): NanAction {
  if (step.finite) return { kind: 'continue' };
  switch (p.onNan) {
    case 'skip':
      return n.skips < p.maxSkips ? { kind: 'skip', skips: n.skips + 1 } : { kind: 'stop', why: 'max skips' };
    case 'rollback': {
      if (n.rollbacks >= p.maxRollbacks) return { kind: 'stop', why: 'max rollbacks' };
      if (!n.lastCheckpoint) return { kind: 'stop', why: 'no checkpoint' };
      const rollbacks = n.rollbacks + 1;
      return { kind: 'rollback', checkpoint: n.lastCheckpoint, rollbacks, lrScale: Math.pow(p.rollbackFactor, rollbacks) };
    }
    default:
      return { kind: 'stop', why: 'on-nan stop' };
  }
}
