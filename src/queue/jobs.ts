// What a queued sweep puts in Redis: one BullMQ flow per enqueue, a parent job for the sweep in
// SWEEP_QUEUE (never processed: it is the sweep's handle in Redis) and one child per cell in
// CELL_QUEUE. A cell's job id is derived from (sweep id, cell key), so BullMQ's job-id dedupe
// makes enqueueing the same cell twice a no-op.
import type { JobsOptions } from 'bullmq';

export const CELL_QUEUE = 'nanscope-cells';
export const SWEEP_QUEUE = 'nanscope-sweeps';

/** Everything a worker needs to run one cell: the `nanscope train` flags and where the result belongs. */
export interface CellJobData {
  sweepId: string;
  cellKey: string;
  /** Train flags of the cell (the sweep's fixed flags, then the cell's own). */
  args: string[];
  /** Run name (default `sweep <cell key>`). */
  name?: string;
}

/** A worker's live report on a cell it holds (job progress). */
export interface CellProgress { worker: string; host: string; step: number | null }

/** BullMQ ids may not contain ':'; cell keys may (init=normal:1), so the key is URI-encoded. */
export function cellJobId(sweepId: string, cellKey: string): string {
  return `${sweepId}/${encodeURIComponent(cellKey)}`;
}

export function parentJobId(sweepId: string, round: number): string {
  return `${sweepId}/enqueue-${round}`;
}

/**
 * Retries are for machines, not configs: a cell whose `nanscope train` exits 1 (data missing on
 * that worker, a crash) is tried 3 times with a growing delay; a bad config (exit 2) fails at once
 * (UnrecoverableError). Finished jobs stay in Redis until the coordinator has imported them, then
 * it removes the sweep's flows.
 */
export const CELL_JOB_OPTS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5000 },
  removeOnComplete: false,
  removeOnFail: false,
};

/** Flags of `nanscope train` that a queued cell may not carry: they write outside the worker's temp store or serve. */
const REFUSED = new Set(['out', 'runs-dir', 'serve', 'port', 'sweep-id', 'cell-key', 'name']);

/**
 * Why a worker refuses a job's train flags, or null. Whoever can write to the Redis can enqueue
 * jobs, so a worker runs zoo models only (a --model file is code) and never lets a job choose
 * where it writes. Checked without loading the engine into the lock-holding process.
 */
export function refusedArgs(args: readonly string[]): string | null {
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) return 'the job\'s train flags are not a list of strings';
  for (let i = 0; i < args.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(args[i]);
    if (!m) continue;
    if (REFUSED.has(m[1])) return `--${m[1]} is not accepted from the queue`;
    const model = m[1] === 'model' ? (m[2] ?? args[i + 1] ?? '') : null;
    if (model !== null && !/^[a-z][a-z0-9-]*$/.test(model)) return `--model ${model}: workers run zoo models only (a model file is code, never taken from the queue)`;
  }
  return null;
}
