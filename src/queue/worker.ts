// nanscope worker: takes cells of queued sweeps from Redis (BullMQ) and runs each in its own
// child process, `nanscope train --quiet` exactly as the local runner does, into a private
// temporary store; a cell that ends (finished or diverged) returns its run as a bounded bundle,
// which the sweep's coordinator imports into its store.
//
// The lock: this process only renews job locks and waits on its children; libtorch never runs in
// it, so steps of many seconds never delay a renewal. A worker killed with -9 stops renewing; once
// its lock expires (--lock-seconds), a live worker's stalled-job check returns the cell to the
// queue and it runs again from its start (checkpoints stay on the dead worker's disk), while the
// orphaned child notices its parent is gone and stops (parent-watch.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, UnrecoverableError, DelayedError, type Job } from 'bullmq';
import { openStore, exportRun, toJson, writerState } from '../store/index.js';
import { cellTrainArgv, cellEnv } from '../cli/cell-process.js';
import { EXIT_WITH_PARENT_ENV } from '../cli/parent-watch.js';
import { connectRedis } from './redis.js';
import { redact } from './url.js';
import { CELL_QUEUE, refusedArgs, type CellJobData, type CellProgress } from './jobs.js';

export interface WorkerOptions {
  url: string;
  concurrency: number;
  /** Replaces each cell's --threads (this machine's choice; note it can move a chaotic NaN step). */
  threads?: number;
  /** Job lock: renewed every half of it; a dead worker's cells move on after about 1-2 of it. */
  lockSeconds: number;
  /** Where the per-cell temporary stores go. */
  workDir?: string;
  log?: (s: string) => void;
}

const CELL_DIR = 'nanscope-cell-';
/** How often the worker reports a held cell's step to Redis (job progress). */
const PROGRESS_MS = 3000;

/** Temporary stores left by workers of this machine that were killed (-9) mid-cell. */
function removeDeadWorkersDirs(dir: string): void {
  let names: string[] = [];
  try { names = readdirSync(dir); } catch { return; }
  for (const n of names) {
    const m = new RegExp(`^${CELL_DIR}(\\d+)-`).exec(n);
    if (m && writerState({ pid: Number(m[1]), host: null, pidStart: null }) === 'dead') rmSync(join(dir, n), { recursive: true, force: true });
  }
}

function withThreads(args: readonly string[], threads: number | undefined): string[] {
  if (threads === undefined) return [...args];
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--threads') { i++; continue; }
    if (args[i].startsWith('--threads=')) continue;
    out.push(args[i]);
  }
  return [...out, '--threads', String(threads)];
}

const lastLines = (s: string, n = 5) => s.trim().split('\n').slice(-n).join('\n');

/** Runs until SIGINT/SIGTERM/SIGHUP: the first finishes the cells in hand, the second returns them to the queue. */
export async function runWorker(o: WorkerOptions): Promise<number> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const workDir = o.workDir ?? tmpdir();
  removeDeadWorkersDirs(workDir);
  const connection = await connectRedis(o.url);
  const host = hostname();
  const name = `${host}:${process.pid}`;
  const children = new Set<ChildProcess>();
  let returning = false;

  const processCell = async (job: Job<CellJobData, string>, token?: string): Promise<string> => {
    const { sweepId, cellKey, args, name: runName } = job.data;
    const refused = refusedArgs(args);
    if (refused) {
      log(`${cellKey} (sweep ${sweepId}): refused: ${refused}`);
      throw new UnrecoverableError(`refused by ${host}: ${refused}`);
    }
    const dir = mkdtempSync(join(workDir, `${CELL_DIR}${process.pid}-`));
    const store = openStore(dir);
    try {
      store.createSweep({ id: sweepId, name: null, grid: null });
      const progress = (step: number | null): Promise<void> => job.updateProgress({ worker: name, host, step } satisfies CellProgress).catch(() => {});
      await progress(null);
      log(`${cellKey} (sweep ${sweepId}, attempt ${job.attemptsMade + 1}): started`);
      // Its own process group: a Ctrl-C at the worker's terminal reaches the worker alone, which
      // decides what happens to the cell (finish it, or stop it and hand it back).
      const ch = spawn(process.execPath, cellTrainArgv(withThreads(args, o.threads), dir, sweepId, cellKey, runName),
        { stdio: ['ignore', 'pipe', 'pipe'], env: cellEnv({ [EXIT_WITH_PARENT_ENV]: '1' }), detached: true });
      children.add(ch);
      let output = '';
      const take = (d: Buffer) => { output += d.toString(); if (output.length > 200_000) output = output.slice(-100_000); };
      ch.stdout!.on('data', take);
      ch.stderr!.on('data', take);
      const tick = setInterval(() => {
        const run = store.findCell(sweepId, cellKey);
        if (run) void progress(store.latestStep(run.id));
      }, PROGRESS_MS);
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res) => ch.on('close', (c, s) => res([c, s])));
      clearInterval(tick);
      children.delete(ch);
      const run = store.findCell(sweepId, cellKey);
      if ((code === 0 || code === 3) && run && (run.status === 'finished' || run.status === 'diverged')) {
        const bundle = toJson(exportRun(store, run.id, output));
        log(`${cellKey}: ${run.status}${run.firstNanStep !== null ? ` at step ${run.firstNanStep}` : ''}, ${run.stepsDone} steps (bundle ${(bundle.length / 1024).toFixed(0)} KiB)`);
        return bundle;
      }
      if (returning && (code === 130 || signal)) {
        // Ctrl-C twice: hand the cell back now (it will run again from its start elsewhere).
        await job.moveToDelayed(Date.now(), token);
        log(`${cellKey}: stopped and returned to the queue`);
        throw new DelayedError();
      }
      const msg = `nanscope train exited with ${code ?? signal} on ${host}: ${lastLines(output) || '(no output)'}`;
      log(`${cellKey}: FAILED (${code === 2 ? 'bad config, not retried' : `attempt ${job.attemptsMade + 1}`})\n${msg}`);
      // Exit 2 is a usage/config error: the same cell fails the same way on every machine.
      if (code === 2) throw new UnrecoverableError(msg);
      throw new Error(msg);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const lockDuration = Math.round(o.lockSeconds * 1000);
  const worker = new Worker<CellJobData, string>(CELL_QUEUE, processCell, {
    connection, concurrency: o.concurrency, name, autorun: false,
    lockDuration, stalledInterval: lockDuration, maxStalledCount: 2,
  });
  worker.on('error', (e) => log(`worker: ${e.message}`));
  let stops = 0;
  const onSig = () => {
    stops++;
    if (stops === 1) {
      log(`worker: finishing the ${children.size} cell(s) in hand, taking no more (Ctrl-C again: return them to the queue)`);
      void worker.close();
    } else if (stops === 2) {
      returning = true;
      log(`worker: stopping ${children.size} cell(s) at their next step and returning them to the queue`);
      for (const ch of children) ch.kill('SIGTERM');
    } else process.exit(130);
  };
  // SIGHUP too: a worker whose terminal closes stops the same way (the CLI's STOP_SIGNALS).
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  process.on('SIGHUP', onSig);
  log(`worker ${name}: ${o.concurrency} cell(s) at a time from ${redact(o.url)} (lock ${o.lockSeconds} s)`);
  try {
    await worker.run();
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
    process.off('SIGHUP', onSig);
    await worker.close();
    connection.disconnect();
  }
  log(`worker ${name}: stopped`);
  return stops ? 130 : 0;
}
