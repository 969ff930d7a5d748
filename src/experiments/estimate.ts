// How long an experiment's cells would take on this machine, before any of them starts: each
// distinct net shape (model, image size, batch, BN, activation, threads) trains a few steps in a
// throwaway store, and its measured step time is multiplied out over every cell's planned steps.
// The full scale can take hours or days here; the CLI shows this and asks for --yes past an hour.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trainer } from '../train/trainer.js';
import { validate, type TrainConfig } from '../train/config.js';
import { loadFashionMnist } from '../data/index.js';
import { openStore } from '../store/index.js';
import { median } from '../diagnose/index.js';
import type { Cell } from './types.js';

/** Timed steps per shape, after one untimed step (first-touch allocations, lazy init). */
export const WARMUP_STEPS = 3;
/** Evaluation runs the forward only: about a third of a training step's work per image. */
export const EVAL_FRACTION = 1 / 3;
/** Past this the CLI wants --yes before it starts. */
export const CONFIRM_SECONDS = 3600;

const TRAIN_IMAGES = 60_000, TEST_IMAGES = 10_000;

const shapeKey = (c: TrainConfig): string =>
  JSON.stringify([c.model, c.modelFile, c.resize, c.batchSize, c.bn, c.activation, c.ratio, c.threads, c.device, c.probeEvery]);

export interface ShapeTime { key: string; example: TrainConfig; stepSeconds: number; imgPerS: number; cells: number; seconds: number }
export interface Estimate { seconds: number; shapes: ShapeTime[] }

/** Training steps and test images a cell plans (before any stop on NaN). */
export function plannedWork(c: TrainConfig): { steps: number; testImages: number } {
  const perEpoch = Math.ceil((c.limitTrain ?? TRAIN_IMAGES) / c.batchSize);
  const steps = Math.min(c.maxSteps ?? Infinity, perEpoch * c.epochs);
  const epochsDone = Math.ceil(steps / perEpoch);
  return { steps, testImages: c.evaluate ? epochsDone * (c.limitTest ?? TEST_IMAGES) : 0 };
}

/** Seconds per training step of this config, measured on real Fashion-MNIST batches with the probes on. */
async function timeSteps(c: TrainConfig): Promise<number> {
  const n = (WARMUP_STEPS + 1) * c.batchSize;
  const data = await loadFashionMnist({ dataDir: c.dataDir ?? undefined, limitTrain: Math.min(TRAIN_IMAGES, n), limitTest: 10 });
  const root = mkdtempSync(join(tmpdir(), 'nanscope-estimate-'));
  const store = openStore(root);
  try {
    const config = validate({ ...c, epochs: 1, maxSteps: WARMUP_STEPS + 1, limitTrain: null, limitTest: null, evaluate: false, checkpointEvery: 0, onNan: 'skip' });
    const run = store.createRun({ name: 'estimate', config });
    const t = new Trainer(config, { store, runId: run.id, data, silent: true, files: false });
    try { await t.run(); } finally { t.dispose(); }
    const ms = store.getSteps(run.id).slice(1).map((s) => s.timeMs).filter((x): x is number => x !== null && Number.isFinite(x));
    return ms.length ? median(ms) / 1000 : NaN;
  } finally {
    store.close();
    rmSync(root, { recursive: true, force: true });
  }
}

export async function estimateCells(cells: readonly Cell[]): Promise<Estimate> {
  const groups = new Map<string, Cell[]>();
  for (const cell of cells) {
    const k = shapeKey(cell.config);
    groups.set(k, [...(groups.get(k) ?? []), cell]);
  }
  const shapes: ShapeTime[] = [];
  for (const [key, cs] of groups) {
    const stepSeconds = await timeSteps(cs[0].config);
    const seconds = cs.reduce((s, cell) => {
      const w = plannedWork(cell.config);
      return s + w.steps * stepSeconds + w.testImages * (stepSeconds / cell.config.batchSize) * EVAL_FRACTION;
    }, 0);
    shapes.push({ key, example: cs[0].config, stepSeconds, imgPerS: cs[0].config.batchSize / stepSeconds, cells: cs.length, seconds });
  }
  return { seconds: shapes.reduce((s, x) => s + x.seconds, 0), shapes };
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return 'unknown';
  if (s < 90) return `${Math.round(s)} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min` : `${(h / 24).toFixed(1)} days`;
}
