// Finding a stored run and the state files it left: what replay and resume start from.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Store, RunRow } from '../store/index.js';
import { defaultConfig, type TrainConfig } from '../train/config.js';
import type { NonFiniteReport } from '../diagnose/index.js';
import { readCheckpoint, type CheckpointMeta } from '../train/checkpoint.js';
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
    const c = readCheckpoint(path);
    for (const t of [...c.model.values(), ...c.optim.values(), c.rng]) t.dispose();
    out.push({ path, meta: c.meta });
  }
  return out.sort((a, b) => a.meta.step - b.meta.step);
}
