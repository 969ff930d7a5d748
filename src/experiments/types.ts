// What a named experiment is: a small fixed grid of training runs (arms x seeds) built from a
// config written in code, at two scales, plus the outcome it expects, checked on the measured
// results at the end. The runner (run.ts) executes the cells and records each in the store.
import type { TrainConfig } from '../train/config.js';
import type { Chart } from './plot.js';
import type { Machine } from '../store/index.js';
import type { Table } from './table.js';

export type Scale = 'cpu' | 'full';
export const SCALES: readonly Scale[] = ['cpu', 'full'];

/** One training run of an experiment. */
export interface Cell {
  /** Which variant (e.g. "lr=0.1", "bn=scratch"); the table's first column. */
  arm: string;
  seed: number;
  config: TrainConfig;
}

/** Per weighted layer: the median over probed steps of its weight-gradient norm (store field grad_w_norm). */
export interface LayerGrad { alias: string; kind: string; gradW: number; wNorm: number }

/** A cell's measured outcome, read back from the store after the run. */
export interface CellResult {
  arm: string;
  seed: number;
  runId: string;
  config: TrainConfig;
  status: 'finished' | 'diverged' | 'interrupted';
  steps: number;
  /** Steps per epoch for this cell's data and batch size. */
  stepsPerEpoch: number;
  /** First non-finite step (1-based) and epoch (0-based) from the store, or null. */
  nanStep: number | null;
  nanEpoch: number | null;
  /** The locator's first layer (alias, e.g. conv5), pass and op. */
  nanLayer: string | null;
  nanPass: string | null;
  nanOp: string | null;
  /** The locator's layer path in the module tree (e.g. "features.10"), or null. */
  nanPath: string | null;
  /** Last epoch's numbers (or the partial epoch's mean loss when it stopped early). */
  loss: number | null;
  trainAcc: number | null;
  testAcc: number | null;
  epochs: { epoch: number; loss: number; trainAcc: number | null; testAcc: number | null }[];
  /** Loss at every step (from the store), for the plots. */
  lossCurve: { step: number; loss: number }[];
  /** Each step's batch accuracy (steps.train_acc; empty for runs recorded before store migration 7). */
  accCurve: { step: number; acc: number }[];
  /** Largest loss seen (finite steps), and the gradient norm at the first and the last finite step. */
  maxLoss: number;
  gradNormFirst: number | null;
  gradNormLast: number | null;
  gradNormMax: number | null;
  /** Loss at the probed steps (finite ones). */
  probedLoss: { step: number; loss: number }[];
  layerGrads: LayerGrad[];
  /** Per BN layer: medians over the last epoch's steps of the batch-statistics probe fields. */
  bnNoise: BnNoise[];
  verdict: string;
  /** The verdict's likely causes and its chain (part and the step it began), as stored. */
  verdictCauses: string[];
  verdictChain: { part: string; step: number | null }[];
  seconds: number;
  /** The machine the run trained on, from the store (null: recorded before store migration 6). */
  machine: Machine | null;
}

/** How far the batch mean and variance a BN layer used sat from its running estimate (diagnose/bn-stats.ts). */
/**
 * One BN layer's batch statistics, medians over the last epoch: meanNoise/varNoise are the sampling
 * noise at each step's weights (split-half, bn-stats.ts), meanDev/varDev the distance from the
 * running estimate (sampling noise plus weight drift). NaN where a run predates a field.
 */
export interface BnNoise { alias: string; meanDev: number; varDev: number; meanNoise: number; varNoise: number }
export interface SummaryTable { head: string[]; rows: string[][] }

export interface Check { ok: boolean; text: string }
export interface NamedTable { title: string; head: string[]; rows: string[][] }
/** What the numbers support, in English and Chinese (generated from the results, never typed in). */
export interface Conclusion { en: string[]; zh: string[] }
export interface Outcome { held: boolean; checks: Check[] }

export interface Experiment {
  name: string;
  title: string;
  /** What people saw, in their words. */
  phenomenon: string;
  /** The deviation from d2l that this experiment applies, and why it was chosen. */
  setup: string;
  /** What --scale cpu reduces, and why the phenomenon survives it. */
  reduction: string;
  /** The expected outcome, in words (the check below is its code). */
  expected: string;
  defaultSeeds: Record<Scale, number>;
  /** The cells carry their own seeds (the exploration log): --seeds does not apply. */
  fixedSeeds?: boolean;
  cells(scale: Scale, seeds: number[]): Cell[];
  check(results: CellResult[], scale: Scale): Outcome;
  /** A table of its own instead of the standard one (the columns below are then unused). */
  table?: (results: readonly CellResult[]) => Table;
  /** Extra table columns. */
  columns?: { head: string; cell: (r: CellResult) => string }[];
  /** A table over all cells beside the per-cell one (phenomenon-3: how many seeds went non-finite by each epoch). */
  summary?: (results: CellResult[]) => SummaryTable[];
  /** What the plot shows ('none': no plot, e.g. 47 unrelated configs on one chart say nothing). */
  plot?: 'loss' | 'layer-grads' | 'epochs' | 'none';
  /** More tables, each with a title (bn-effects: one per question). */
  tables?: (results: CellResult[]) => NamedTable[];
  /** A summary under the tables of which claims the numbers support. */
  conclusion?: (results: CellResult[]) => Conclusion;
  /** The experiment's own charts: [file suffix, chart] ('' for the main one); used instead of plot. */
  charts?: (results: CellResult[]) => [string, Chart][];
}

export const check = (ok: boolean, text: string): Check => ({ ok, text });
export const outcome = (checks: Check[]): Outcome => ({ held: checks.every((c) => c.ok), checks });
