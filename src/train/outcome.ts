// What one training step came to, as the loop sees it: a finite step with its numbers, or a
// non-finite one (its update never applied) with the report of where it broke. The --on-nan
// policy reads only which of the two it is; the trainer records either.
import type { Batch } from '../data/index.js';
import type { TensorStats } from '../torch/index.js';
import type { NonFiniteReport, StepHistograms } from '../diagnose/index.js';

interface StepCommon {
  /** The loop's epoch and the batch the step trained on. */
  epoch: number;
  batch: Batch;
  loss: number;
  /** The step's wall time. */
  ms: number;
}
export interface FiniteStep extends StepCommon {
  finite: true;
  correct: number;
  /** The input's statistics, measured on probed steps only. */
  input: TensorStats | null;
}
export interface NonFiniteStep extends StepCommon {
  finite: false;
  report: NonFiniteReport;
  /** Histograms of the step's re-execution under the locator, when it took them. */
  hist: StepHistograms | null;
}
export type StepOutcome = FiniteStep | NonFiniteStep;
