// How one sweep cell runs: a child process `nanscope train --quiet`, recorded as the cell of its
// sweep. The local runner (sweep.ts) and the queue worker (queue/worker.ts) build the same argv
// here, so a cell gives the same numbers whichever of them runs it.
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI entry beside this file (main.ts under tsx, main.js when built) and node's flags for it. */
export function mainScript(): { script: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const script = join(here, '..', `main${ext}`);
  const execArgv = [...process.execArgv];
  if (ext === '.ts' && !execArgv.some((a) => a.includes('tsx'))) execArgv.push('--import', 'tsx');
  return { script, execArgv };
}

/** node's argv for one cell: its train flags, recorded under (sweepId, cellKey) in the store at root. */
export function cellTrainArgv(trainArgs: readonly string[], root: string, sweepId: string, cellKey: string, name = `sweep ${cellKey}`): string[] {
  const { script, execArgv } = mainScript();
  return [...execArgv, script, 'train', ...trainArgs, '--quiet', '--runs-dir', root, '--sweep-id', sweepId, '--cell-key', cellKey, '--name', name];
}

/** The environment of a cell process: OpenMP threads sleep when idle instead of spinning. */
export function cellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'passive', ...extra };
}
