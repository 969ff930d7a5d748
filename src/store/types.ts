// Public row types of the run store. Times are milliseconds since the epoch.
// Numeric metric fields may hold NaN or ±Infinity and read back unchanged;
// `null` means "not recorded".

import type { Machine } from './machine.js';

export const RUN_KINDS = ['train', 'experiment', 'sweep-cell', 'replay'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export const RUN_STATUSES = ['running', 'finished', 'diverged', 'stopped', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const EVENT_KINDS = ['nan', 'skip', 'rollback', 'checkpoint', 'resume', 'note', 'warning', 'doctor'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const SWEEP_STATUSES = ['running', 'finished', 'stopped', 'failed', 'interrupted'] as const;
export type SweepStatus = (typeof SWEEP_STATUSES)[number];

/** Known artifact kinds; any other string is allowed too. */
export type ArtifactKind = 'checkpoint' | 'bad-batch' | 'report' | (string & {});

export interface NewRun {
  /** Must match [A-Za-z0-9][A-Za-z0-9._-]*; generated from `name` and the time if absent. */
  id?: string;
  name: string;
  kind?: RunKind; // default 'train'
  /** Run this one resumes or replays. */
  parentId?: string | null;
  sweepId?: string | null;
  /** Identifies the grid cell within `sweepId`; unique per sweep. */
  cellKey?: string | null;
  status?: RunStatus; // default 'running'
  config?: unknown;
  seed?: number | null;
  /** Writer process; defaults to this process. */
  pid?: number | null;
  /** Machine that ran it; defaults to this one (an imported run keeps its worker's). */
  host?: string | null;
  /** Defaults to now (an imported run keeps the time it started on its worker). */
  createdAt?: number;
  /** The machine it trained on (set by the trainer when it starts; an imported run keeps its worker's). */
  machine?: Machine | null;
}

export interface RunRow {
  id: string;
  name: string;
  kind: RunKind;
  parentId: string | null;
  sweepId: string | null;
  cellKey: string | null;
  status: RunStatus;
  config: unknown;
  seed: number | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  pid: number | null;
  host: string | null;
  /** The writer's process start time (see liveness.ts): pid + host + this say whether it still runs. */
  pidStart: string | null;
  /** The machine it trained on (CPU, ISA, threads, libtorch), null for runs recorded before store migration 6. */
  machine: Machine | null;
  /** Run folder relative to the store root (use Store.runDir for the absolute path). */
  dir: string;
  epochsDone: number;
  stepsDone: number;
  finalLoss: number | null;
  finalTrainAcc: number | null;
  finalTestAcc: number | null;
  firstNanStep: number | null;
  firstNanEpoch: number | null;
  verdict: unknown;
  report: unknown;
  error: string | null;
  /** Names of the per-layer probe fields, in blob order; null until setLayers. */
  probeFields: string[] | null;
}

/** Fields updateRun may change; `undefined` leaves a field alone, `null` clears it. */
export interface RunPatch {
  name?: string;
  status?: RunStatus;
  config?: unknown;
  seed?: number | null;
  pid?: number | null;
  host?: string | null;
  pidStart?: string | null;
  machine?: Machine | null;
  finishedAt?: number | null;
  epochsDone?: number;
  stepsDone?: number;
  finalLoss?: number | null;
  finalTrainAcc?: number | null;
  finalTestAcc?: number | null;
  firstNanStep?: number | null;
  firstNanEpoch?: number | null;
  verdict?: unknown;
  report?: unknown;
  error?: string | null;
}

export interface RunFilter {
  status?: RunStatus | RunStatus[];
  kind?: RunKind | RunKind[];
  sweepId?: string;
  parentId?: string;
  /** Newest first; default: all. */
  limit?: number;
}

export interface LayerInput {
  /** PyTorch dotted path ("1.0.conv2"). */
  name: string;
  /** Module class, e.g. 'Conv2d'. */
  kind: string;
  /** The enclosing module's path ('' = the model); derived from name when omitted. */
  parent?: string;
  /** Path segments (1 = a child of the model); derived from name when omitted. */
  depth?: number;
  /** Friendly name (conv1, residual2). */
  alias?: string | null;
  /** Its own weight has rank >= 2 (conv, linear). */
  hasWeight?: boolean | null;
}

/** A stored layer; idx is its execution index (and its position in probe blobs). */
export interface LayerRow {
  idx: number;
  name: string;
  kind: string;
  parent: string;
  depth: number;
  alias: string | null;
  hasWeight: boolean | null;
}

export type { StepInput, StepRow } from './step-columns.js';

/**
 * One step's probe values: layers × fields, row-major by layer, i.e. the value
 * of field f for layer l is values[l * fields.length + f].
 */
export interface ProbeInput {
  step: number;
  values: Float32Array;
  /** On histogram steps: layers x bins counts of |activation| and |output gradient|. */
  hist?: { act: ArrayLike<number>; grad: ArrayLike<number> } | null;
}

/** The histograms of one step: act and grad are layers x bins, row-major. */
export interface HistogramSet {
  step: number;
  layers: string[];
  bins: number;
  /** Exact counts (Float64: exact to 2^53), layers x bins; a NaN row: nothing seen. */
  act: Float64Array;
  grad: Float64Array;
}

/** Inclusive step range; `every` keeps steps with step % every === 0. */
export interface StepRange {
  from?: number;
  to?: number;
  every?: number;
}

export interface ProbeSet {
  steps: number[];
  layers: string[];
  fields: string[];
  /** values[i] belongs to steps[i]; layout as in ProbeInput. */
  values: Float32Array[];
}

/** One probe field over time: data[i * layers.length + l] is layer l at steps[i]. */
export interface ProbeSeries {
  field: string;
  steps: number[];
  layers: string[];
  data: Float32Array;
}

export interface EpochInput {
  epoch: number;
  loss: number;
  trainAcc?: number | null;
  testAcc?: number | null;
  imgPerS?: number | null;
  timeS?: number | null;
}

export interface EpochRow {
  epoch: number;
  loss: number;
  trainAcc: number | null;
  testAcc: number | null;
  imgPerS: number | null;
  timeS: number | null;
  at: number;
}

export interface EventRow {
  id: number;
  runId: string;
  step: number | null;
  kind: EventKind;
  payload: unknown;
  at: number;
}

export interface ArtifactInput {
  kind: ArtifactKind;
  /** Relative to the run folder; must stay inside it. */
  relPath: string;
  step?: number | null;
  bytes?: number | null;
}

export interface ArtifactRow {
  id: number;
  runId: string;
  kind: ArtifactKind;
  relPath: string;
  step: number | null;
  bytes: number | null;
  at: number;
}

export interface SweepRow {
  id: string;
  name: string | null;
  grid: unknown;
  status: SweepStatus;
  createdAt: number;
  updatedAt: number;
  /** The sweep process that drives it (null: none recorded); see liveness.ts. */
  pid: number | null;
  host: string | null;
  pidStart: string | null;
}

export interface NewSweep {
  id?: string;
  name?: string | null;
  grid: unknown;
}
