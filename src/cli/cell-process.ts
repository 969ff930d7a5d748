// How one sweep cell runs: a child process `nanscope train --quiet`, recorded as the cell of its
// sweep. The local runner (sweep.ts) and the queue worker (queue/worker.ts) build the same argv
// here, so a cell gives the same numbers whichever of them runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from '../store/index.js';

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

/** How a cell process ended: its exit, the tail of its output, and the run it recorded (if any). */
export interface CellExit { code: number | null; signal: NodeJS.Signals | null; output: string; run: ReturnType<Store['findCell']> }

/**
 * Runs one cell process (argv from cellTrainArgv) to its end, in `running` while it lives so a
 * stop can signal it. Its output (the last 100-200 kB) is kept and saved as worker.log in the
 * folder of the run it recorded. Shared by the sweep runner and the experiment runner.
 */
export function runCellProcess(argv: string[], store: Store, sweepId: string, key: string, running: Set<ChildProcess>): Promise<CellExit> {
  return new Promise((resolve) => {
    const ch = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: cellEnv() });
    running.add(ch);
    let output = '';
    const take = (d: Buffer) => { output += d.toString(); if (output.length > 200_000) output = output.slice(-100_000); };
    ch.stdout!.on('data', take);
    ch.stderr!.on('data', take);
    ch.on('close', (code, signal) => {
      running.delete(ch);
      const run = store.findCell(sweepId, key);
      if (run) { try { writeFileSync(join(store.runDir(run.id), 'worker.log'), output); } catch { /* folder gone */ } }
      resolve({ code, signal, output, run });
    });
  });
}

/** The last lines of a failed cell's output, indented, for the runner's log. */
export const failureTail = (output: string): string => output.trim().split('\n').slice(-5).map((l) => `    ${l}`).join('\n');
