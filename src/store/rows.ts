// Mapping between SQLite rows (snake_case, JSON text, NaN masks) and the public
// typed rows. Only this file knows the column layout of each table.

import { asMachine } from './machine.js';
import { fromJson } from './json.js';
import { packNaN, unpackNaN } from './nan.js';
import { STEP_COORDS, STEP_SQL_COLUMNS, STEP_VALUES } from './step-columns.js';
import type {
  ArtifactRow,
  EpochInput,
  EpochRow,
  EventKind,
  EventRow,
  RunKind,
  RunRow,
  RunStatus,
  StepInput,
  StepRow,
  SweepRow,
  SweepStatus,
} from './types.js';

export function parseJsonColumn(text: string | null): unknown {
  return text === null ? null : fromJson(text);
}

// ---- runs ----

/** Bit index in runs.nan_mask for each NaN-capable column. */
export const RUN_NAN_BITS = { final_loss: 0, final_train_acc: 1, final_test_acc: 2 } as const;

export interface RunDbRow {
  id: string;
  name: string;
  kind: string;
  parent_id: string | null;
  sweep_id: string | null;
  cell_key: string | null;
  status: string;
  config: string | null;
  seed: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  pid: number | null;
  host: string | null;
  pid_start: string | null;
  /** Added by migration 6 (JSON). */
  machine: string | null;
  dir: string;
  epochs_done: number;
  steps_done: number;
  final_loss: number | null;
  final_train_acc: number | null;
  final_test_acc: number | null;
  first_nan_step: number | null;
  first_nan_epoch: number | null;
  verdict: string | null;
  report: string | null;
  error: string | null;
  probe_fields: string | null;
  nan_mask: number;
}

export function runFromDb(r: RunDbRow): RunRow {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind as RunKind,
    parentId: r.parent_id,
    sweepId: r.sweep_id,
    cellKey: r.cell_key,
    status: r.status as RunStatus,
    config: parseJsonColumn(r.config),
    seed: r.seed,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    pid: r.pid,
    host: r.host,
    pidStart: r.pid_start ?? null,
    machine: asMachine(parseJsonColumn(r.machine ?? null)),
    dir: r.dir,
    epochsDone: r.epochs_done,
    stepsDone: r.steps_done,
    finalLoss: unpackNaN(r.final_loss, r.nan_mask, RUN_NAN_BITS.final_loss),
    finalTrainAcc: unpackNaN(r.final_train_acc, r.nan_mask, RUN_NAN_BITS.final_train_acc),
    finalTestAcc: unpackNaN(r.final_test_acc, r.nan_mask, RUN_NAN_BITS.final_test_acc),
    firstNanStep: r.first_nan_step,
    firstNanEpoch: r.first_nan_epoch,
    verdict: parseJsonColumn(r.verdict),
    report: parseJsonColumn(r.report),
    error: r.error,
    probeFields: r.probe_fields === null ? null : fromJson<string[]>(r.probe_fields),
  };
}

// ---- steps ----

/** The steps table's columns after run_id, comma-joined for SQL (derived from step-columns.ts). */
export const STEP_COLUMNS = STEP_SQL_COLUMNS.join(', ');

/** A steps row as SQLite returns it: the columns of STEP_SQL_COLUMNS by name. */
export type StepDbRow = Record<string, number | null>;

function isBad(v: number | null | undefined): boolean {
  return typeof v === 'number' && !Number.isFinite(v);
}

/** Positional parameters for the steps INSERT (after run_id), in STEP_COLUMNS order. */
export function stepToDb(s: StepInput): (number | null)[] {
  if (typeof s.loss !== 'number' || typeof s.lr !== 'number') {
    throw new TypeError(`step ${s.step}: loss and lr must be numbers (NaN is fine)`);
  }
  const { values, mask } = packNaN(STEP_VALUES.map((v) => s[v.key]));
  return [...STEP_COORDS.map((k) => s[k]), ...values, stepIsNonfinite(s) ? 1 : 0, mask];
}

export function stepIsNonfinite(s: StepInput): boolean {
  return s.nonfinite ?? (isBad(s.loss) || isBad(s.gradNorm));
}

export function stepFromDb(r: StepDbRow): StepRow {
  const m = r.nan_mask ?? 0;
  const row: Record<string, number | boolean | null> = {};
  for (const k of STEP_COORDS) row[k] = r[k];
  // Values are written as numbers or null; null with its nan_mask bit set was NaN. The required
  // ones (loss, lr) are always written, so null there can only be NaN.
  STEP_VALUES.forEach((v, bit) => {
    const x = unpackNaN(r[v.col] ?? null, m, bit);
    row[v.key] = x === null && 'required' in v ? Number.NaN : x;
  });
  row.nonfinite = r.nonfinite !== 0;
  return row as StepRow;
}

// ---- epochs ----

export interface EpochDbRow {
  epoch: number;
  loss: number | null;
  train_acc: number | null;
  test_acc: number | null;
  img_per_s: number | null;
  time_s: number | null;
  nan_mask: number;
  at: number;
}

/** Parameters (after run_id): epoch, loss, train_acc, test_acc, img_per_s, time_s, nan_mask. */
export function epochToDb(e: EpochInput): (number | null)[] {
  if (typeof e.loss !== 'number') throw new TypeError(`epoch ${e.epoch}: loss must be a number (NaN is fine)`);
  const { values, mask } = packNaN([e.loss, e.trainAcc, e.testAcc, e.imgPerS, e.timeS]);
  return [e.epoch, ...values, mask];
}

export function epochFromDb(r: EpochDbRow): EpochRow {
  const m = r.nan_mask;
  return {
    epoch: r.epoch,
    loss: unpackNaN(r.loss, m, 0) ?? Number.NaN,
    trainAcc: unpackNaN(r.train_acc, m, 1),
    testAcc: unpackNaN(r.test_acc, m, 2),
    imgPerS: unpackNaN(r.img_per_s, m, 3),
    timeS: unpackNaN(r.time_s, m, 4),
    at: r.at,
  };
}

// ---- events, artifacts, sweeps ----

export interface EventDbRow {
  id: number;
  run_id: string;
  step: number | null;
  kind: string;
  payload: string | null;
  at: number;
}

export function eventFromDb(r: EventDbRow): EventRow {
  return { id: r.id, runId: r.run_id, step: r.step, kind: r.kind as EventKind, payload: parseJsonColumn(r.payload), at: r.at };
}

export interface ArtifactDbRow {
  id: number;
  run_id: string;
  kind: string;
  rel_path: string;
  step: number | null;
  bytes: number | null;
  at: number;
}

export function artifactFromDb(r: ArtifactDbRow): ArtifactRow {
  return { id: r.id, runId: r.run_id, kind: r.kind, relPath: r.rel_path, step: r.step, bytes: r.bytes, at: r.at };
}

export interface SweepDbRow {
  id: string;
  name: string | null;
  grid: string;
  status: string;
  created_at: number;
  updated_at: number;
  pid: number | null;
  host: string | null;
  pid_start: string | null;
}

export function sweepFromDb(r: SweepDbRow): SweepRow {
  return {
    id: r.id,
    name: r.name,
    grid: parseJsonColumn(r.grid),
    status: r.status as SweepStatus,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    pid: r.pid ?? null,
    host: r.host ?? null,
    pidStart: r.pid_start ?? null,
  };
}
