// The JSON shapes the dashboard API serves and the static report embeds. Pure
// types (no runtime code) so the browser bundle can `import type` them.
//
// Encoding: the store's toJson, i.e. NaN/±Infinity travel as the strings
// "NaN"/"Infinity"/"-Infinity" and typed arrays as plain arrays; the client
// revives them (web/src/json.ts).

import type { ArtifactRow, EpochRow, EventRow, LayerRow, RunRow, StepRow, SweepRow } from '../store/types.js';

export type { ArtifactRow, EpochRow, EventRow, LayerRow, RunRow, StepRow, SweepRow };

/** A run as listed: everything but the (possibly large) locator report. */
export type RunSummary = Omit<RunRow, 'report'> & { hasReport: boolean };

export interface RunsResponse {
  runs: RunSummary[];
}

export interface RunDetailResponse {
  run: RunRow;
  layers: LayerRow[];
  artifacts: ArtifactRow[];
}

/** Step rows as columns (compact for thousands of points). */
export type StepColumns = { [K in keyof StepRow]: StepRow[K][] };

export interface StepsResponse {
  /** Downsampling factor used: steps with step % every === 0, plus every non-finite and the last step. */
  every: number;
  /** Highest step stored for the run (null when none). */
  latest: number | null;
  cols: StepColumns;
}

export interface EpochsResponse {
  epochs: EpochRow[];
}

export interface LayersResponse {
  layers: LayerRow[];
  fields: string[];
}

/**
 * Probe fields over time. series[field][i * layers.length + l] is layer l at
 * steps[i]; NaN where the field does not apply to the layer or was NaN.
 */
export interface ProbesResponse {
  every: number;
  steps: number[];
  layers: string[];
  kinds: string[];
  fields: string[];
  series: Record<string, number[]>;
}

/** All probe fields of the layers at one step; values[l][f]. */
export interface ProbeStepResponse {
  step: number;
  /** The step asked for; `step` is the closest probed step at or before it. */
  requested: number;
  layers: string[];
  kinds: string[];
  fields: string[];
  values: number[][];
  /** The newest histograms at or before `requested` (null: none recorded by then). */
  hist: HistogramResponse | null;
}

/**
 * Magnitude histograms of one step (the probe kernel's bins): for each layer, counts of
 * |activation| and of |gradient at its output|, null where that layer saw nothing.
 * Bins 0..lower.length-1 are magnitudes [lower[b], lower[b+1]); then one bin of exact zeros
 * and one of NaN/±Inf.
 */
export interface HistogramResponse {
  step: number;
  layers: string[];
  lower: number[];
  act: (number[] | null)[];
  grad: (number[] | null)[];
}

export interface EventsResponse {
  events: EventRow[];
}

export interface SweepsResponse {
  sweeps: (SweepRow & { cells: number })[];
}

export interface SweepResponse {
  sweep: SweepRow;
  cells: RunSummary[];
  /** Flattened config keys (a.b.c) whose values differ between cells: the grid axes. */
  varying: string[];
  /** Every planned cell (grid order) with where it stands; recorded cells only for sweeps without a stored plan. */
  board: SweepCellState[];
  /** The Redis URL (password masked) of a sweep queued on workers, else null. */
  queue: string | null;
}

/** queued: no run yet (while the sweep runs); not run: none and the sweep stopped; stopped: interrupted or stopped. */
export type CellState = 'queued' | 'not run' | 'running' | 'done' | 'failed' | 'stopped';

export interface SweepCellState {
  key: string;
  state: CellState;
  runId: string | null;
  /** Machine running or having run the cell (a queue worker's host). */
  host: string | null;
  /** Steps done (for a running cell: the worker's last report). */
  step: number | null;
}

/** Messages on the live stream (Server-Sent Events), by event name. */
export interface LiveMessages {
  /** New step rows since the last message. */
  steps: StepColumns;
  /** Epoch rows that are new or changed. */
  epochs: EpochRow[];
  /** The run row changed (status, verdict, counters). */
  run: RunSummary;
  /** New events. */
  events: EventRow[];
  /** Highest probed step is now `latest` (refetch probe series if you show them). */
  probes: { latest: number };
}

/** What a static report embeds: one run, everything the run page shows. */
export interface ReportBundle {
  format: 'nanscope-report/1';
  generatedAt: number;
  run: RunDetailResponse;
  steps: StepsResponse;
  epochs: EpochRow[];
  events: EventRow[];
  /** All probe fields, downsampled. */
  probes: ProbesResponse;
  /** Histograms of up to 60 recorded steps (evenly thinned, the first and last kept). */
  hists: HistogramResponse[];
}
