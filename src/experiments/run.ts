// Runs an experiment's cells one after another in this process, records each as a run of kind
// 'experiment' under one sweep row (the invocation: its grid, scale and overrides), and reads
// every number it reports back from the store, so the tables show what was recorded.
import { d2lNum } from '../diagnose/format.js';
import { randomBytes } from 'node:crypto';
import { Trainer } from '../train/trainer.js';
import { validate, type TrainConfig } from '../train/config.js';
import { loadFashionMnist } from '../data/index.js';
import { median } from '../diagnose/index.js';
import type { Store, SweepRow } from '../store/index.js';
import type { BnNoise, Cell, CellResult, Experiment, LayerGrad, Outcome, Scale } from './types.js';

/** Limits a caller may impose on every cell (tests, quick looks); recorded with the invocation. */
export interface Overrides {
  limitTrain?: number;
  limitTest?: number;
  maxSteps?: number;
  epochs?: number;
  threads?: number;
  dataDir?: string;
}

export interface RunOptions {
  store: Store;
  scale: Scale;
  seeds: number[];
  overrides?: Overrides;
  /** One line per finished cell (progress); default stderr. */
  log?: (s: string) => void;
  /** Show each run's d2l epoch lines. */
  verbose?: boolean;
  stopSignal?: { stop: boolean };
  /** Run only the arms whose name contains one of these (e.g. to skip the slow 224x224 look). */
  only?: string[];
}

export interface ExperimentRun {
  experiment: Experiment;
  sweepId: string;
  scale: Scale;
  seeds: number[];
  overrides: Overrides;
  only: string[];
  results: CellResult[];
  outcome: Outcome;
  interrupted: boolean;
  /** Planned cells with no finished or diverged run (read back from the store only): still running, stopped, or never started. */
  missing?: { key: string; why: 'running' | 'stopped' | 'not run' }[];
  startedAt: Date;
  seconds: number;
}

export function applyOverrides(c: TrainConfig, o: Overrides): TrainConfig {
  return validate({
    ...c,
    limitTrain: o.limitTrain ?? c.limitTrain,
    limitTest: o.limitTest ?? c.limitTest,
    maxSteps: o.maxSteps ?? c.maxSteps,
    epochs: o.epochs ?? c.epochs,
    threads: o.threads ?? c.threads,
    dataDir: o.dataDir ?? c.dataDir,
  });
}

/** The cells an invocation runs: the experiment's grid, filtered by arm, with the overrides applied. */
export function planCells(exp: Experiment, scale: Scale, seeds: number[], overrides: Overrides = {}, only: string[] = []): Cell[] {
  return exp.cells(scale, seeds)
    .filter((c) => !only.length || only.some((a) => c.arm.includes(a)))
    .map((c) => ({ ...c, config: applyOverrides(c.config, overrides) }));
}

export function cellKey(c: Pick<Cell, 'arm' | 'seed'>): string { return `${c.arm}/seed=${c.seed}`; }

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** The sweep row of one invocation: its grid, scale, overrides and planned cells (reloadExperiment reads it back). */
export function createExperimentSweep(store: Store, exp: Experiment, scale: Scale, seeds: number[], overrides: Overrides, only: string[], cells: Cell[],
  startedAt = new Date(), extra: Record<string, unknown> = {}): SweepRow {
  return store.createSweep({
    id: `exp-${stamp(startedAt)}-${exp.name}-${randomBytes(2).toString('hex')}`,
    name: `experiment ${exp.name} (${scale})`,
    grid: { experiment: exp.name, scale, seeds, overrides, only, cells: cells.map((c) => ({ key: cellKey(c), config: c.config })), ...extra },
  });
}

export async function runExperiment(exp: Experiment, o: RunOptions): Promise<ExperimentRun> {
  const overrides = o.overrides ?? {};
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const only = o.only ?? [];
  const cells = planCells(exp, o.scale, o.seeds, overrides, only);
  if (!cells.length) throw new Error(`${exp.name}: no arm matches ${only.join(', ')}`);
  const startedAt = new Date();
  const sweep = createExperimentSweep(o.store, exp, o.scale, o.seeds, overrides, only, cells, startedAt);
  const results: CellResult[] = [];
  let interrupted = false;
  for (const [i, cell] of cells.entries()) {
    if (o.stopSignal?.stop) { interrupted = true; break; }
    const r = await runCell(o.store, sweep.id, exp, cell, o);
    results.push(r);
    log(`[${i + 1}/${cells.length}] ${exp.name} ${cellKey(cell)}: ${summary(r)} (${r.seconds.toFixed(0)} s, run ${r.runId})`);
    if (r.status === 'interrupted') { interrupted = true; break; }
  }
  let outcome: Outcome;
  if (interrupted || results.length !== cells.length) {
    outcome = { held: false, checks: [{ ok: false, text: `interrupted after ${results.length} of ${cells.length} runs` }] };
  } else {
    outcome = exp.check(results, o.scale);
    if (only.length) outcome.checks.push({ ok: true, text: `only the arms matching ${only.map((a) => `'${a}'`).join(', ')} were run (${[...new Set(cells.map((c) => c.arm))].join('; ')})` });
  }
  o.store.setSweepStatus(sweep.id, interrupted ? 'interrupted' : 'finished');
  return { experiment: exp, sweepId: sweep.id, scale: o.scale, seeds: o.seeds, overrides, only, results, outcome, interrupted, startedAt,
    seconds: (Date.now() - startedAt.getTime()) / 1000 };
}

export function summary(r: CellResult): string {
  if (r.nanStep !== null) return `non-finite at step ${r.nanStep} (epoch ${(r.nanEpoch ?? 0) + 1}), ${r.nanPass} pass, ${r.nanLayer}`;
  const acc = r.testAcc === null ? '' : `, test acc ${d2lNum(r.testAcc)}`;
  return `${r.status}, ${r.steps} steps, loss ${d2lNum(r.loss)}${acc}`;
}

async function runCell(store: Store, sweepId: string, exp: Experiment, cell: Cell, o: RunOptions): Promise<CellResult> {
  const c = cell.config;
  const data = await loadFashionMnist({ dataDir: c.dataDir ?? undefined, limitTrain: c.limitTrain ?? undefined, limitTest: c.limitTest ?? undefined });
  const run = store.createRun({ name: `${exp.name} ${cell.arm} seed ${cell.seed}`, kind: 'experiment', sweepId, cellKey: cellKey(cell), config: c, seed: c.seed });
  store.addEvent(run.id, null, 'note', { experiment: exp.name, scale: o.scale, arm: cell.arm, seed: cell.seed });
  const t0 = Date.now();
  const trainer = new Trainer(c, { store, runId: run.id, data, silent: !o.verbose, quiet: true, stopSignal: o.stopSignal });
  let stepsPerEpoch: number;
  let res;
  try {
    stepsPerEpoch = trainer.train.numBatches;
    res = await trainer.run();
  } catch (e) {
    store.setStatus(run.id, 'failed', { error: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    trainer.dispose();
  }
  return readBack(store, run.id, cell, stepsPerEpoch, res.status, (Date.now() - t0) / 1000);
}

/** Every reported number comes from the store rows the trainer wrote. */
export function readBack(store: Store, runId: string, cell: Cell, stepsPerEpoch: number, status: CellResult['status'], seconds: number): CellResult {
  const run = store.getRun(runId)!;
  const report = run.report as { alias?: string; pass?: string; op?: string; layer?: string | null } | null;
  const v = run.verdict as { run?: string; causes?: string[]; chain?: { part: string; step: number | null }[] } | null;
  const steps = store.getSteps(runId);
  const epochs = store.getEpochs(runId).map((e) => ({ epoch: e.epoch, loss: e.loss, trainAcc: e.trainAcc, testAcc: e.testAcc }));
  const finite = steps.filter((s) => !s.nonfinite && Number.isFinite(s.loss));
  const gn = finite.map((s) => s.gradNorm).filter((g): g is number => g !== null && Number.isFinite(g));
  const last = epochs[epochs.length - 1];
  return {
    arm: cell.arm, seed: cell.seed, runId, config: cell.config, status, steps: run.stepsDone, stepsPerEpoch,
    nanStep: run.firstNanStep, nanEpoch: run.firstNanEpoch,
    nanLayer: report?.alias ?? null, nanPass: report?.pass ?? null, nanOp: report?.op ?? null, nanPath: report?.layer ?? null,
    loss: last?.loss ?? run.finalLoss, trainAcc: last?.trainAcc ?? null, testAcc: last?.testAcc ?? null, epochs,
    lossCurve: steps.map((s) => ({ step: s.step, loss: s.loss })),
    accCurve: steps.flatMap((s) => (s.trainAcc === null ? [] : [{ step: s.step, acc: s.trainAcc }])),
    maxLoss: finite.reduce((m, s) => Math.max(m, s.loss), -Infinity),
    gradNormFirst: gn[0] ?? null, gradNormLast: gn[gn.length - 1] ?? null, gradNormMax: gn.length ? Math.max(...gn) : null,
    probedLoss: probedLoss(store, runId, finite),
    layerGrads: layerGrads(store, runId),
    bnNoise: bnNoise(store, runId, stepsPerEpoch),
    verdict: v?.run ?? '-', verdictCauses: v?.causes ?? [], verdictChain: (v?.chain ?? []).map((c) => ({ part: c.part, step: c.step })),
    seconds,
    machine: run.machine,
  };
}

/** The finite losses at the steps the probes recorded (every step when the run has no probes). */
function probedLoss(store: Store, runId: string, finite: readonly { step: number; loss: number }[]): { step: number; loss: number }[] {
  const fields = store.getRun(runId)?.probeFields;
  if (!fields?.length) return finite.map((s) => ({ step: s.step, loss: s.loss }));
  const probed = new Set(store.probeSeries(runId, fields[0]).steps);
  return finite.filter((s) => probed.has(s.step)).map((s) => ({ step: s.step, loss: s.loss }));
}

/** Median over the probed steps of each conv/linear-like layer's (hasWeight) grad_w_norm and w_norm, read from the store. */
export function layerGrads(store: Store, runId: string): LayerGrad[] {
  const layers = store.getLayers(runId);
  if (!layers.length || !store.getRun(runId)?.probeFields) return [];
  const g = store.probeSeries(runId, 'grad_w_norm');
  const w = store.probeSeries(runId, 'w_norm');
  const nl = layers.length;
  const col = (s: { data: Float32Array; steps: number[] }, l: number) => s.steps.map((_, i) => s.data[i * nl + l]).filter(Number.isFinite);
  return layers.flatMap((l, i) => (l.hasWeight
    ? [{ alias: l.alias ?? l.name, kind: l.kind, gradW: median(col(g, i)), wNorm: median(col(w, i)) }]
    : []));
}

/**
 * Per BN layer, the median of the batch-statistics fields (bn_mean_dev, bn_var_dev, bn_mean_noise,
 * bn_var_noise) over the last epoch's probed steps (the running estimate lags at the start; by the
 * last epoch it tracks the population). Runs recorded before these fields existed, and nets
 * without BN, give []; a run with the dev fields but not the noise ones gives NaN noise.
 */
export function bnNoise(store: Store, runId: string, stepsPerEpoch: number): BnNoise[] {
  const run = store.getRun(runId);
  const fields = run?.probeFields ?? [];
  if (!fields.includes('bn_mean_dev')) return [];
  const layers = store.getLayers(runId);
  const series = (f: string) => (fields.includes(f) ? store.probeSeries(runId, f) : null);
  const m = series('bn_mean_dev')!, v = series('bn_var_dev')!, mn = series('bn_mean_noise'), vn = series('bn_var_noise');
  const last = Math.max(0, ...m.steps);
  const from = last - stepsPerEpoch; // the last epoch's steps (or all, when shorter)
  const nl = layers.length;
  const med = (s: { data: Float32Array; steps: number[] } | null, l: number) => {
    const xs = s ? s.steps.flatMap((st, i) => (st > from ? [s.data[i * nl + l]] : [])).filter(Number.isFinite) : [];
    return xs.length ? median(xs) : NaN;
  };
  return layers.flatMap((l, i) => {
    const meanDev = med(m, i);
    return Number.isNaN(meanDev) ? [] : [{ alias: l.alias ?? l.name, meanDev, varDev: med(v, i), meanNoise: med(mn, i), varNoise: med(vn, i) }];
  });
}

/**
 * Rebuilds an invocation's results from the store alone (no training): the cells recorded
 * under its sweep id, read back exactly as after a run, and the expected outcome checked again.
 */
export function reloadExperiment(exp: Experiment, store: Store, sweepId: string): ExperimentRun {
  const sweep = store.getSweep(sweepId);
  const grid = sweep?.grid as { experiment?: string; scale?: Scale; seeds?: number[]; overrides?: Overrides; only?: string[]; cells?: { key: string; config: TrainConfig }[] } | undefined;
  if (!sweep || !grid?.cells || grid.experiment !== exp.name) throw new Error(`${sweepId} is not a recorded run of experiment ${exp.name}`);
  const results: CellResult[] = [];
  const missing: NonNullable<ExperimentRun['missing']> = [];
  for (const c of grid.cells) {
    const run = store.findCell(sweepId, c.key);
    // A cell still training has no outcome yet: it is listed as missing, not shown half-way.
    if (!run || run.status === 'running') { missing.push({ key: c.key, why: run ? 'running' : 'not run' }); continue; }
    if (run.status !== 'finished' && run.status !== 'diverged') missing.push({ key: c.key, why: 'stopped' });
    const slash = c.key.lastIndexOf('/seed=');
    const cell: Cell = { arm: c.key.slice(0, slash), seed: Number(c.key.slice(slash + 6)), config: c.config };
    const n = c.config.limitTrain ?? 60000;
    const status = run.status === 'diverged' ? 'diverged' : run.status === 'finished' ? 'finished' : 'interrupted';
    results.push(readBack(store, run.id, cell, Math.ceil(n / c.config.batchSize), status, ((run.finishedAt ?? run.updatedAt) - run.createdAt) / 1000));
  }
  const scale = grid.scale ?? 'cpu';
  const only = grid.only ?? [];
  const complete = results.length === grid.cells.length && results.every((r) => r.status !== 'interrupted');
  const outcome: Outcome = complete ? exp.check(results, scale) : { held: false, checks: [{ ok: false, text: `only ${results.length} of ${grid.cells.length} runs completed` }] };
  if (complete && only.length) outcome.checks.push({ ok: true, text: `only the arms matching ${only.map((a) => `'${a}'`).join(', ')} were run` });
  const last = results.length ? Math.max(...results.map((r) => store.getRun(r.runId)?.finishedAt ?? sweep.updatedAt)) : sweep.updatedAt;
  return { experiment: exp, sweepId, scale, seeds: grid.seeds ?? [], overrides: grid.overrides ?? {}, only, results, outcome,
    interrupted: !complete, missing, startedAt: new Date(sweep.createdAt), seconds: (last - sweep.createdAt) / 1000 };
}

/** Seeds 0..n-1. */
export function seedList(n: number): number[] { return Array.from({ length: n }, (_, i) => i); }
