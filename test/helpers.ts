// Shared test plumbing: temp dirs, the PyTorch oracle (Debian python3-torch, test-only), and
// tensor comparison with a relative tolerance.
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { Tensor, encodeTensors, decodeTensors } from '../src/torch/index.js';
import { openStore } from '../src/store/index.js';
import { loadFashionMnist } from '../src/data/index.js';
import { Trainer, type TrainerOptions } from '../src/train/trainer.js';
import { defaultConfig, validate, type TrainConfig } from '../src/train/config.js';

export const ORACLE_PYTHON = process.env.NANSCOPE_ORACLE_PYTHON ?? '/usr/bin/python3';
export const tmp = (prefix = 'nanscope-test-'): string => mkdtempSync(join(tmpdir(), prefix));

export function saveSt(path: string, m: Map<string, Tensor>): void { writeFileSync(path, encodeTensors(m)); }
export function loadSt(path: string): Map<string, Tensor> { return decodeTensors(new Uint8Array(readFileSync(path)), path).tensors; }

export function oracle(script: string, args: string[]): void {
  execFileSync(ORACLE_PYTHON, [join(import.meta.dirname, 'oracle', script), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
}

/** max |a-b| / (max |b| + tiny): one relative error for a whole tensor. */
export function relErr(a: Tensor, b: Tensor): number {
  const x = a.toFloat32Array();
  const y = b.toFloat32Array();
  if (x.length !== y.length) return Infinity;
  let num = 0, den = 1e-12;
  for (let i = 0; i < x.length; i++) { num = Math.max(num, Math.abs(x[i] - y[i])); den = Math.max(den, Math.abs(y[i])); }
  return num / den;
}

/** One real in-process training run on a Fashion-MNIST subset (silent, no eval by default). */
export async function runTrainer(c: Partial<TrainConfig>, hooks: Pick<TrainerOptions, 'beforeStep' | 'afterBackward' | 'stopSignal'> = {}) {
  const data = await loadFashionMnist({ limitTrain: c.limitTrain ?? 512, limitTest: 100 });
  const store = openStore(tmp());
  const config = validate({ ...defaultConfig(c.model ?? 'lenet'), evaluate: false, checkpointEvery: 0, ...c });
  const run = store.createRun({ name: 't', config });
  const trainer = new Trainer(config, { store, runId: run.id, data, silent: true, ...hooks });
  try {
    return { r: await trainer.run(), store, runId: run.id, trainer };
  } finally {
    trainer.dispose();
  }
}

export const CLI = ['--import', 'tsx', 'src/cli/main.ts'];

/** Polls the store until run `id` has logged `steps` steps; fails if `child` exits first. */
export async function waitForSteps(root: string, id: string, steps: number, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`run ${id} ended before step ${steps}`);
    try {
      const s = openStore(root);
      const n = s.latestStep(id) ?? 0;
      s.close();
      if (n >= steps) return;
    } catch { /* not created yet */ }
    await new Promise((r) => setTimeout(r, 30));
  }
  throw new Error(`timeout waiting for run ${id} to reach step ${steps}`);
}
