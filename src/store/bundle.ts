// A run as one bounded, self-contained value: how a cell run on another machine travels back to
// the sweep's own store. It carries the run's config, status and results, every epoch row, the
// step rows, the locator report and verdict, and the probes and histograms thinned evenly to a
// byte budget (always keeping the last probed steps before the run ended: where a NaN came from).
// Files (checkpoints, last-good.st) stay on the worker. Float32 probe data travels as base64 of
// its bytes, so NaN and Inf survive bit-exact; everything else goes through toJson.
//
// importBundle is idempotent by (sweep, cell): delivery from a queue is at least once, and a cell
// already recorded as finished or diverged is never recorded twice.
import { asMachine } from './machine.js';
import { decodeCounts } from './probes.js';
import { hostname } from 'node:os';
import type { Store } from './store.js';
import { spread } from './thin.js';
import type { EpochInput, EventKind, LayerInput, RunKind, RunRow, RunStatus, StepInput } from './types.js';

export interface BundleLimits {
  /** Most step rows kept (evenly spread, plus every non-finite step and the last ones). */
  maxSteps: number;
  /** Byte budget of the probe blobs (before base64). */
  probeBytes: number;
  /** Most histogram steps kept. */
  maxHistograms: number;
  /** Characters of the cell's console output kept (its end). */
  logChars: number;
}

export const BUNDLE_LIMITS: BundleLimits = { maxSteps: 20_000, probeBytes: 2 * 1024 * 1024, maxHistograms: 60, logChars: 64 * 1024 };

/** Steps always kept at the end of the probe and step series (the approach to a NaN). */
const TAIL = 50;

export interface RunBundle {
  format: 'nanscope-run/2';
  /** Machine that ran the cell. */
  host: string;
  run: Pick<RunRow, 'id' | 'name' | 'status' | 'config' | 'seed' | 'machine' | 'createdAt' | 'finishedAt' | 'epochsDone' | 'stepsDone'
    | 'finalLoss' | 'finalTrainAcc' | 'finalTestAcc' | 'firstNanStep' | 'firstNanEpoch' | 'verdict' | 'report' | 'error' | 'probeFields'>;
  layers: LayerInput[];
  epochs: EpochInput[];
  steps: StepInput[];
  probes: { step: number; data: string }[];
  histograms: { step: number; act: string; grad: string }[];
  events: { step: number | null; kind: EventKind; payload: unknown }[];
  /** How much was thinned away: [kept, recorded]. */
  kept: { steps: [number, number]; probes: [number, number]; histograms: [number, number] };
  log: string;
}

const b64 = (a: Float32Array | Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
/** Histogram counts travel as the store keeps them: exact Float64. */
const f64 = (s: string): Float64Array => decodeCounts(Buffer.from(s, 'base64'));
function f32(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  if (b.byteLength % 4) throw new Error('bundle: probe data is not Float32');
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** Evenly spread indices of n, at most max, always including the last `tail` and any in `must`. */
function keep(n: number, max: number, must: (i: number) => boolean = () => false): number[] {
  const tail = Math.min(n, TAIL, Math.max(0, max - 2));
  const idx = new Set(spread(n - tail, Math.max(1, max - tail)));
  for (let i = n - tail; i < n; i++) idx.add(i);
  for (let i = 0; i < n; i++) if (must(i)) idx.add(i);
  return [...idx].sort((a, b) => a - b);
}

export function exportRun(store: Store, runId: string, log = '', limits: BundleLimits = BUNDLE_LIMITS): RunBundle {
  const r = store.getRun(runId);
  if (!r) throw new Error(`unknown run ${runId}`);
  const layers = store.getLayers(runId).map(({ name, kind }) => ({ name, kind }));
  const allSteps = store.getSteps(runId);
  const steps = keep(allSteps.length, limits.maxSteps, (i) => allSteps[i].nonfinite).map((i) => allSteps[i]);
  const probeSet = store.getProbes(runId);
  const perProbe = Math.max(1, layers.length * (r.probeFields?.length ?? 0) * 4);
  const pIdx = keep(probeSet.steps.length, Math.max(1, Math.floor(limits.probeBytes / perProbe)));
  const histSteps = store.histogramSteps(runId);
  const hIdx = keep(histSteps.length, limits.maxHistograms);
  return {
    format: 'nanscope-run/2',
    host: hostname(),
    run: {
      id: r.id, name: r.name, status: r.status, config: r.config, seed: r.seed, machine: r.machine, createdAt: r.createdAt, finishedAt: r.finishedAt,
      epochsDone: r.epochsDone, stepsDone: r.stepsDone, finalLoss: r.finalLoss, finalTrainAcc: r.finalTrainAcc, finalTestAcc: r.finalTestAcc,
      firstNanStep: r.firstNanStep, firstNanEpoch: r.firstNanEpoch, verdict: r.verdict, report: r.report, error: r.error, probeFields: r.probeFields,
    },
    layers,
    epochs: store.getEpochs(runId).map(({ epoch, loss, trainAcc, testAcc, imgPerS, timeS }) => ({ epoch, loss, trainAcc, testAcc, imgPerS, timeS })),
    steps: steps.map((s) => ({ ...s })),
    probes: pIdx.map((i) => ({ step: probeSet.steps[i], data: b64(probeSet.values[i]) })),
    histograms: hIdx.flatMap((i) => {
      const h = store.histogramAt(runId, histSteps[i]);
      return h && h.step === histSteps[i] ? [{ step: h.step, act: b64(h.act), grad: b64(h.grad) }] : [];
    }),
    events: store.getEvents(runId).map(({ step, kind, payload }) => ({ step, kind, payload })),
    kept: { steps: [steps.length, allSteps.length], probes: [pIdx.length, probeSet.steps.length], histograms: [hIdx.length, histSteps.length] },
    log: log.length > limits.logChars ? log.slice(-limits.logChars) : log,
  };
}

const DONE: ReadonlySet<RunStatus> = new Set(['finished', 'diverged']);

/**
 * Records a bundle as the run of (sweepId, cellKey), in one transaction. A cell that already
 * has a finished or diverged run is left alone (imported: false); any other run of the cell (a
 * placeholder for a cell in flight, or an earlier failure) is replaced, keeping its run id.
 */
export function importBundle(store: Store, sweepId: string, cellKey: string, b: RunBundle, kind: RunKind = 'sweep-cell'): { runId: string; imported: boolean } {
  // /2: histogram counts are Float64 (store migration 4); a worker on older code sends /1.
  if (b?.format !== 'nanscope-run/2') throw new Error(`cell ${cellKey}: not a nanscope-run/2 bundle (got ${JSON.stringify((b as { format?: unknown } | null)?.format ?? null)}): update nanscope on the worker that ran it`);
  const res = store.atomically(() => {
    const prev = store.findCell(sweepId, cellKey);
    if (prev && DONE.has(prev.status)) return { runId: prev.id, imported: false };
    if (prev) store.deleteRun(prev.id);
    const id = prev?.id ?? b.run.id;
    const r = b.run;
    store.createRun({ id, name: r.name, kind, sweepId, cellKey, status: 'running', config: r.config, seed: r.seed, pid: null, host: b.host, createdAt: r.createdAt, machine: asMachine(r.machine) });
    if (b.layers.length && r.probeFields) store.setLayers(id, b.layers, r.probeFields);
    const hist = new Map(b.histograms.map((h) => [h.step, h]));
    const probes = b.probes.map((p) => {
      const h = hist.get(p.step);
      hist.delete(p.step);
      return { step: p.step, values: f32(p.data), hist: h ? { act: f64(h.act), grad: f64(h.grad) } : null };
    });
    store.logSteps(id, b.steps, probes);
    for (const h of hist.values()) store.logHistogram(id, h.step, { act: f64(h.act), grad: f64(h.grad) });
    for (const e of b.epochs) store.logEpoch(id, e);
    for (const e of b.events) store.addEvent(id, e.step, e.kind, e.payload);
    store.updateRun(id, {
      status: r.status, finishedAt: r.finishedAt, epochsDone: r.epochsDone, stepsDone: r.stepsDone, finalLoss: r.finalLoss,
      finalTrainAcc: r.finalTrainAcc, finalTestAcc: r.finalTestAcc, firstNanStep: r.firstNanStep, firstNanEpoch: r.firstNanEpoch,
      verdict: r.verdict, report: r.report, error: r.error,
    });
    return { runId: id, imported: true };
  });
  return res;
}
