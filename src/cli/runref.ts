// Finding a stored run and the state files it left: what replay and resume start from.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Store, RunRow } from '../store/index.js';
import { defaultConfig, type TrainConfig } from '../train/config.js';
import type { NonFiniteReport } from '../diagnose/index.js';
import { readCheckpointMeta, type CheckpointMeta } from '../train/checkpoint.js';
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

/** The run's saved states, oldest step first: the periodic/epoch checkpoint and the last good state. */
export function stateFiles(dir: string): StateFile[] {
  const out: StateFile[] = [];
  for (const f of ['checkpoint.st', 'last-good.st']) {
    const path = join(dir, f);
    if (!existsSync(path)) continue;
    out.push({ path, meta: readCheckpointMeta(path) });
  }
  return out.sort((a, b) => a.meta.step - b.meta.step);
}

/** The newest saved state from before `step` (null: the newest of all), or a usage error. */
export function stateBefore(ref: RunRef, step: number | null, command: string): StateFile {
  const states = stateFiles(ref.dir).filter((s) => step === null || s.meta.step < step);
  if (!states.length) {
    throw new UsageError(`${command}: ${ref.run.id} has no saved state ${step === null ? '' : `at or before step ${step - 1} `}in ${ref.dir}`);
  }
  return states[states.length - 1];
}
