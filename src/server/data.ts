// Queries behind the API, shared by the live server and the static report so
// both hand the front end exactly the same shapes (see wire.ts).

import type { HistogramSet, ProbeSet, RunRow, Store, StepRow } from '../store/index.js';
import { badRequest, notFound } from './errors.js';
import { spread } from '../store/thin.js';
import { STEP_KEYS } from '../store/step-columns.js';
import { histBinLower } from '../torch/hist-bins.js';
import type {
  LayersResponse,
  ProbeStepResponse,
  ProbesResponse,
  ReportBundle,
  HistogramResponse,
  RunDetailResponse,
  RunSummary,
  StepColumns,
  StepsResponse,
  SweepResponse,
  SweepCellState,
  CellState,
} from './wire.js';

export const DEFAULT_MAX_STEPS = 4000;
export const DEFAULT_MAX_PROBES = 600;
export const MAX_POINTS = 100_000;

export function summarize(run: RunRow): RunSummary {
  const { report, ...rest } = run;
  return { ...rest, hasReport: report !== null && report !== undefined };
}

export function requireRun(store: Store, id: string): RunRow {
  const run = store.getRun(id);
  if (!run) throw notFound(`unknown run ${JSON.stringify(id)}`);
  return run;
}

export function runDetail(store: Store, id: string): RunDetailResponse {
  const run = requireRun(store, id);
  return { run, layers: store.getLayers(id), artifacts: store.getArtifacts(id) };
}

export function layersOf(store: Store, id: string): LayersResponse {
  const run = requireRun(store, id);
  return { layers: store.getLayers(id), fields: run.probeFields ?? [] };
}


export function toColumns(rows: readonly StepRow[]): StepColumns {
  const cols = {} as Record<keyof StepRow, unknown[]>;
  for (const k of STEP_KEYS) cols[k] = new Array(rows.length);
  rows.forEach((r, i) => {
    for (const k of STEP_KEYS) cols[k][i] = r[k];
  });
  return cols as StepColumns;
}

export interface RangeQuery {
  from?: number;
  to?: number;
  every?: number;
  /** Target number of points when `every` is not given. */
  max?: number;
}

function pickEvery(from: number, to: number, q: RangeQuery, dflt: number): number {
  if (q.every !== undefined) return q.every;
  const max = Math.min(q.max ?? dflt, MAX_POINTS);
  const span = to - from + 1;
  return span > max ? Math.ceil(span / max) : 1;
}

function checkRange(q: RangeQuery): void {
  if (q.max !== undefined && (q.max < 1 || q.max > MAX_POINTS)) throw badRequest(`max must be within 1..${MAX_POINTS}`);
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw badRequest('from must not be greater than to');
}

/** Steps that must survive downsampling: where trouble was recorded. */
function troubleSteps(store: Store, run: RunRow): number[] {
  const out = new Set<number>();
  if (run.firstNanStep !== null) out.add(run.firstNanStep);
  for (const e of store.getEvents(run.id)) {
    if (e.step !== null && (e.kind === 'nan' || e.kind === 'skip' || e.kind === 'rollback')) out.add(e.step);
  }
  return [...out];
}

export function stepsOf(store: Store, id: string, q: RangeQuery = {}): StepsResponse {
  checkRange(q);
  const run = requireRun(store, id);
  const latest = store.latestStep(id);
  if (latest === null) return { every: 1, latest, cols: toColumns([]) };
  const from = q.from ?? Number.MIN_SAFE_INTEGER;
  const to = q.to ?? latest;
  const every = pickEvery(Math.max(from, 0), Math.min(to, latest), q, DEFAULT_MAX_STEPS);
  let rows = store.getSteps(id, { from, to, every });
  if (every > 1) {
    const have = new Set(rows.map((r) => r.step));
    const extra: StepRow[] = [];
    for (const s of [...troubleSteps(store, run), Math.min(to, latest)]) {
      if (s < from || s > to || have.has(s)) continue;
      have.add(s);
      extra.push(...store.getSteps(id, { from: s, to: s }));
    }
    if (extra.length) rows = [...rows, ...extra].sort((a, b) => a.step - b.step);
  }
  return { every, latest, cols: toColumns(rows) };
}

function mergeProbeSets(a: ProbeSet, extra: ProbeSet[]): ProbeSet {
  const byStep = new Map<number, Float32Array>();
  a.steps.forEach((s, i) => byStep.set(s, a.values[i]));
  for (const e of extra) e.steps.forEach((s, i) => byStep.set(s, e.values[i]));
  const steps = [...byStep.keys()].sort((x, y) => x - y);
  return { ...a, steps, values: steps.map((s) => byStep.get(s) as Float32Array) };
}

/** Keep about `max` evenly spread entries (always the first and last). */
function decimate(p: ProbeSet, max: number): ProbeSet {
  if (p.steps.length <= max) return p;
  const idx = spread(p.steps.length, max);
  return { ...p, steps: idx.map((i) => p.steps[i]), values: idx.map((i) => p.values[i]) };
}

export function probesOf(store: Store, id: string, fields: string[] | undefined, q: RangeQuery = {}): ProbesResponse {
  checkRange(q);
  const run = requireRun(store, id);
  const layerRows = store.getLayers(id);
  const known = run.probeFields ?? [];
  const want = fields ?? known;
  for (const f of want) {
    if (!known.includes(f)) {
      throw badRequest(`unknown probe field ${JSON.stringify(f.slice(0, 40))}; this run has: ${known.join(', ') || '(none)'}`);
    }
  }
  const empty: ProbesResponse = {
    every: 1,
    steps: [],
    layers: layerRows.map((l) => l.name),
    kinds: layerRows.map((l) => l.kind),
    fields: want,
    series: Object.fromEntries(want.map((f) => [f, []])),
  };
  const latest = store.latestStep(id);
  if (latest === null || known.length === 0) return empty;
  const from = q.from ?? Number.MIN_SAFE_INTEGER;
  const to = q.to ?? latest;
  const max = Math.min(q.max ?? DEFAULT_MAX_PROBES, MAX_POINTS);
  const every = pickEvery(Math.max(from, 0), Math.min(to, latest), q, DEFAULT_MAX_PROBES);
  let set = store.getProbes(id, { from, to, every });
  // Probes logged every k steps at an offset can all miss `step % every === 0`;
  // then read the range and thin it out here instead.
  if (every > 1 && q.every === undefined && set.steps.length < Math.min(max, 8)) {
    set = decimate(store.getProbes(id, { from, to }), max);
  }
  // Keep the steps around trouble and the newest probe, whatever the thinning.
  const extra: ProbeSet[] = [];
  for (const s of troubleSteps(store, run)) {
    if (s >= from && s <= to) extra.push(store.getProbes(id, { from: Math.max(from, s - 1), to: s }));
  }
  if (to >= latest) extra.push(lastProbeAtOrBefore(store, id, latest, from));
  set = mergeProbeSets(set, extra);
  const nl = set.layers.length;
  const nf = set.fields.length;
  const series: Record<string, number[]> = {};
  for (const f of want) {
    const fi = set.fields.indexOf(f);
    const data = new Array<number>(set.steps.length * nl);
    set.values.forEach((v, i) => {
      for (let l = 0; l < nl; l++) data[i * nl + l] = v[l * nf + fi];
    });
    series[f] = data;
  }
  return { ...empty, every, steps: set.steps, layers: set.layers, series };
}

/** The newest probe at or before `step` (searching back in growing windows). */
function lastProbeAtOrBefore(store: Store, id: string, step: number, floor = Number.MIN_SAFE_INTEGER): ProbeSet {
  const last = (p: ProbeSet): ProbeSet => {
    const i = p.steps.length - 1;
    return i < 0 ? p : { ...p, steps: [p.steps[i]], values: [p.values[i]] };
  };
  for (const w of [0, 64, 4096]) {
    const from = Math.max(floor, step - w);
    const p = store.getProbes(id, { from, to: step });
    if (p.steps.length || from === floor) return last(p);
  }
  return last(store.getProbes(id, { from: floor, to: step }));
}

export function probeAt(store: Store, id: string, step: number): ProbeStepResponse {
  requireRun(store, id);
  const layerRows = store.getLayers(id);
  const p = lastProbeAtOrBefore(store, id, step);
  if (!p.steps.length) throw notFound(`run has no probes at or before step ${step}`);
  const nf = p.fields.length;
  const v = p.values[0];
  return {
    step: p.steps[0],
    requested: step,
    layers: p.layers,
    kinds: layerRows.map((l) => l.kind),
    fields: p.fields,
    values: p.layers.map((_, l) => Array.from(v.subarray(l * nf, (l + 1) * nf))),
    hist: histResponse(store.histogramAt(id, step)),
  };
}

/** Store histograms as the wire shape: bins split into magnitude bins, zeros and NaN/Inf. */
export function histResponse(h: HistogramSet | null): HistogramResponse | null {
  if (!h || h.bins < 3) return null;
  const mags = h.bins - 2;
  const rows = (a: Float64Array) => h.layers.map((_, l) => {
    const r = Array.from(a.subarray(l * h.bins, (l + 1) * h.bins));
    return r.some((x) => Number.isNaN(x)) ? null : r;
  });
  return { step: h.step, layers: h.layers, lower: Array.from({ length: mags }, (_, b) => histBinLower(b)), act: rows(h.act), grad: rows(h.grad) };
}

function flatten(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, JSON.stringify(value) ?? 'null');
  }
}

/** Config keys whose values differ between runs (the axes of a sweep). */
export function varyingKeys(runs: readonly RunRow[] | readonly RunSummary[]): string[] {
  const flat = runs.map((r) => {
    const m = new Map<string, string>();
    flatten(r.config, '', m);
    return m;
  });
  const keys = new Set<string>();
  flat.forEach((m) => m.forEach((_, k) => keys.add(k)));
  return [...keys].filter((k) => new Set(flat.map((m) => m.get(k) ?? '<unset>')).size > 1).sort();
}

/** The cell keys a sweep planned: nanscope sweep stores cellKeys, experiments cells[].key. */
function plannedKeys(grid: unknown): string[] | null {
  const g = grid as { cellKeys?: unknown; cells?: unknown } | null;
  if (Array.isArray(g?.cellKeys)) return g.cellKeys.filter((k): k is string => typeof k === 'string');
  if (Array.isArray(g?.cells)) return g.cells.map((c: { key?: unknown }) => c?.key).filter((k): k is string => typeof k === 'string');
  return null;
}

const CELL_STATE: Record<RunRow['status'], CellState> = {
  running: 'running', finished: 'done', diverged: 'done', failed: 'failed', stopped: 'stopped', interrupted: 'stopped',
};

export function sweepOf(store: Store, id: string): SweepResponse {
  const sweep = store.getSweep(id);
  if (!sweep) throw notFound(`unknown sweep ${JSON.stringify(id)}`);
  const cells = store.listSweepCells(id).map(summarize);
  const byKey = new Map(cells.filter((c) => c.cellKey !== null).map((c) => [c.cellKey as string, c]));
  const keys = plannedKeys(sweep.grid) ?? [...byKey.keys()];
  const board: SweepCellState[] = keys.map((key) => {
    const r = byKey.get(key);
    if (!r) return { key, state: sweep.status === 'running' ? 'queued' : 'not run', runId: null, host: null, step: null };
    return { key, state: CELL_STATE[r.status], runId: r.id, host: r.host, step: r.stepsDone };
  });
  const queue = (sweep.grid as { queue?: unknown } | null)?.queue;
  return { sweep, cells, varying: varyingKeys(cells), board, queue: typeof queue === 'string' ? queue : null };
}

export function reportBundle(store: Store, id: string): ReportBundle {
  const run = runDetail(store, id);
  const histSteps = store.histogramSteps(id);
  return {
    format: 'nanscope-report/1',
    generatedAt: Date.now(),
    run,
    steps: stepsOf(store, id, { max: DEFAULT_MAX_STEPS }),
    epochs: store.getEpochs(id),
    events: store.getEvents(id),
    probes: probesOf(store, id, undefined, { max: 400 }),
    hists: spread(histSteps.length, 60).flatMap((i) => histResponse(store.histogramAt(id, histSteps[i])) ?? []),
  };
}
