// Finding a stored run and the state files it left: what replay and resume start from.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Store, RunRow } from '../store/index.js';
import { defaultConfig, type TrainConfig } from '../train/config.js';
import type { NonFiniteReport } from '../diagnose/index.js';
import { readCheckpointMeta, type CheckpointMeta } from '../train/checkpoint.js';
import { verifyTensorFile } from '../torch/index.js';
import { UsageError } from './args.js';

export interface RunRef { run: RunRow; config: TrainConfig; dir: string; report: NonFiniteReport | null }

export function findRun(store: Store, id: string | undefined, command: string): RunRef {
  if (!id) throw new UsageError(`${command}: which run? (nanscope runs lists them)`);
  const run = store.getRun(id);
  if (!run) throw new UsageError(`${command}: no run '${id}' in ${store.root} (nanscope runs --runs-dir ... lists them)`);
  // Settings added since the run was recorded take their defaults.
  const stored = run.config as TrainConfig;
  const config: TrainConfig = { ...defaultConfig(stored.model), ...stored };
  return { run, config, dir: store.runDir(id), report: (run.report as NonFiniteReport | null) ?? null };
}

export interface StateFile { path: string; meta: CheckpointMeta }

/**
 * The run's saved states whose headers read, oldest step first: the periodic/epoch checkpoint
 * and the last good state. One whose header is damaged is skipped with a warning, so that a
 * damaged checkpoint.st does not stand in the way of last-good.st (all replay needs).
 */
export function stateFiles(dir: string, warn: (s: string) => void = () => {}): StateFile[] {
  const out: StateFile[] = [];
  for (const f of ['checkpoint.st', 'last-good.st']) {
    const path = join(dir, f);
    if (!existsSync(path)) continue;
    try {
      out.push({ path, meta: readCheckpointMeta(path) });
    } catch (e) {
      warn(`skipping ${(e as Error).message}`);
    }
  }
  return out.sort((a, b) => a.meta.step - b.meta.step);
}

/**
 * The newest intact saved state from before `step` (null: the newest of all). Each candidate's
 * checksums are checked here, before anything is written; a damaged one is skipped with a
 * warning naming it. None at all is a usage error; only damaged ones, an error naming them.
 */
export function stateBefore(ref: RunRef, step: number | null, command: string, warn = (s: string) => { process.stderr.write(`${command}: ${s}\n`); }): StateFile {
  const damaged: string[] = [];
  const note = (s: string): void => { damaged.push(s); warn(s); };
  const states = stateFiles(ref.dir, note).filter((s) => step === null || s.meta.step < step);
  for (let i = states.length - 1; i >= 0; i--) {
    try {
      verifyTensorFile(states[i].path);
      return states[i];
    } catch (e) {
      note(`skipping ${(e as Error).message}`);
    }
  }
  const where = `${step === null ? '' : `at or before step ${step - 1} `}in ${ref.dir}`;
  if (damaged.length) throw new Error(`${command}: ${ref.run.id} has no intact saved state ${where} (${damaged.join('; ')})`);
  throw new UsageError(`${command}: ${ref.run.id} has no saved state ${where}`);
}
