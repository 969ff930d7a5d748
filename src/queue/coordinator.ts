// The coordinator side of a queued sweep: enqueue the cells as one BullMQ flow, then follow their
// jobs, importing each finished cell's bundle into this machine's store (idempotent by sweep and
// cell), recording failed cells with their message, and mirroring cells in flight as 'running'
// placeholder runs (host = the worker's machine, steps = its last report), so `nanscope runs`,
// the dashboard and the outcome table see the sweep live. Queued cells have no run yet.
// Once every cell is recorded, the sweep's jobs are removed from Redis.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlowProducer, Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { fromJson, importBundle, type RunBundle, type RunKind, type Store, type RunStatus } from '../store/index.js';
import { CELL_JOB_OPTS, CELL_QUEUE, SWEEP_QUEUE, cellJobId, parentJobId, type CellJobData, type CellProgress } from './jobs.js';

export interface QueueCell {
  key: string;
  /** The cell's `nanscope train` flags. */
  args: string[];
  /** Its parsed config, shown on the placeholder run of a cell in flight or failed. */
  config?: unknown;
  /** Run name (default `sweep <cell key>`) and kind (default sweep-cell) in this store. */
  name?: string;
  kind?: RunKind;
}

const seedOf = (c: unknown): number | null => (typeof (c as { seed?: unknown } | null)?.seed === 'number' ? (c as { seed: number }).seed : null);

const DONE: ReadonlySet<RunStatus> = new Set(['finished', 'diverged']);
const IN_FLIGHT = new Set(['active', 'waiting', 'wait', 'delayed', 'prioritized', 'waiting-children', 'paused']);
const POLL_MS = 1000;

export class SweepQueue {
  readonly cells: Queue<CellJobData, string>;
  private readonly sweeps: Queue;
  private readonly flows: FlowProducer;

  constructor(connection: Redis) {
    this.cells = new Queue(CELL_QUEUE, { connection });
    this.sweeps = new Queue(SWEEP_QUEUE, { connection });
    this.flows = new FlowProducer({ connection });
  }

  async close(): Promise<void> {
    await Promise.all([this.cells.close(), this.sweeps.close(), this.flows.close()]);
  }

  private async parents(sweepId: string): Promise<Job[]> {
    const out: Job[] = [];
    for (let round = 1; ; round++) {
      const j = await this.sweeps.getJob(parentJobId(sweepId, round));
      if (!j) return out;
      out.push(j);
    }
  }

  /**
   * Adds the cells as children of one new parent job, atomically (a flow is one MULTI): all of
   * them are enqueued or none. A cell whose job id already exists is not added twice.
   */
  async enqueue(sweepId: string, cells: readonly QueueCell[]): Promise<void> {
    if (!cells.length) return;
    const round = (await this.parents(sweepId)).length + 1;
    await this.flows.add({
      name: 'sweep', queueName: SWEEP_QUEUE, data: { sweepId }, opts: { jobId: parentJobId(sweepId, round) },
      children: cells.map((c) => ({
        name: 'cell', queueName: CELL_QUEUE, data: { sweepId, cellKey: c.key, args: c.args, ...(c.name ? { name: c.name } : {}) },
        // A failed cell must not hold the parent (and the sweep's cleanup) forever.
        opts: { ...CELL_JOB_OPTS, jobId: cellJobId(sweepId, c.key), ignoreDependencyOnFailure: true },
      })),
    });
  }

  /**
   * The cell's job and its state. The state is read first: a job that completes between the two
   * reads then shows up as still active, never as completed without its return value.
   */
  async job(sweepId: string, cellKey: string): Promise<{ job: Job<CellJobData, string>; state: string } | null> {
    const id = cellJobId(sweepId, cellKey);
    const state = await this.cells.getJobState(id);
    const job = await this.cells.getJob(id) as Job<CellJobData, string> | undefined;
    return job && state !== 'unknown' ? { job, state } : null;
  }

  /** Removes every job of the sweep (its parents and, with them, their cells). */
  async removeSweep(sweepId: string): Promise<void> {
    for (const p of await this.parents(sweepId)) await p.remove({ removeChildren: true });
  }
}

/** Records a cell whose job failed for good (bad config, or out of attempts), unless it is already done. */
function recordFailure(store: Store, sweepId: string, cell: QueueCell, job: Job<CellJobData, string>, error = `${job.failedReason ?? 'failed'} (after ${job.attemptsMade} attempt(s))`): string {
  const cellKey = cell.key;
  return store.atomically(() => {
    const prev = store.findCell(sweepId, cellKey);
    if (prev && DONE.has(prev.status)) return prev.id;
    if (prev) store.deleteRun(prev.id);
    const host = (job.progress as CellProgress | undefined)?.host ?? null;
    const run = store.createRun({ id: prev?.id, name: cell.name ?? `sweep ${cellKey}`, kind: cell.kind ?? 'sweep-cell', sweepId, cellKey, status: 'failed', pid: null, host, config: cell.config ?? null, seed: seedOf(cell.config) });
    store.updateRun(run.id, { error });
    return run.id;
  });
}

/** A cell some worker holds: a 'running' run with the worker's host and its last reported step. */
function mirrorRunning(store: Store, sweepId: string, cell: QueueCell, p: CellProgress | undefined): void {
  const cellKey = cell.key;
  const prev = store.findCell(sweepId, cellKey);
  if (prev && prev.status !== 'running') return;
  const id = prev?.id ?? store.createRun({ name: cell.name ?? `sweep ${cellKey}`, kind: cell.kind ?? 'sweep-cell', sweepId, cellKey, pid: null, host: p?.host ?? null, config: cell.config ?? null, seed: seedOf(cell.config) }).id;
  if (p && (prev?.host !== p.host || (p.step !== null && prev?.stepsDone !== p.step))) {
    store.updateRun(id, { host: p.host, ...(p.step !== null ? { stepsDone: p.step } : {}) });
  }
}

export interface FollowResult { recorded: number; failed: number; missing: string[]; stopped: boolean }

/**
 * Follows the cells' jobs until each is recorded in the store (imported or failed), or until
 * stop.stop. A cell with no job in Redis (removed, Redis flushed) is reported as missing.
 */
export async function followSweep(q: SweepQueue, store: Store, sweepId: string, cells: readonly QueueCell[],
  o: { log: (s: string) => void; stop: { stop: boolean } }): Promise<FollowResult> {
  const byKey = new Map(cells.map((c) => [c.key, c]));
  const pending = new Set(cells.filter((c) => !DONE.has(store.findCell(sweepId, c.key)?.status ?? 'running')).map((c) => c.key));
  const total = pending.size;
  let recorded = 0, failed = 0;
  const missing: string[] = [];
  while (pending.size && !o.stop.stop) {
    for (const key of [...pending]) {
      const j = await q.job(sweepId, key);
      if (!j) { pending.delete(key); missing.push(key); continue; }
      if (j.state === 'completed') {
        let bundle: RunBundle, runId: string, imported: boolean;
        try {
          bundle = fromJson<RunBundle>(j.job.returnvalue);
          ({ runId, imported } = importBundle(store, sweepId, key, bundle, byKey.get(key)!.kind));
        } catch (e) {
          // A result this store cannot take (another nanscope version?) fails the cell, not the sweep.
          const id = recordFailure(store, sweepId, byKey.get(key)!, j.job, `its result could not be imported: ${(e as Error).message}`);
          recorded++; failed++; pending.delete(key);
          o.log(`[${recorded}/${total}] ${key}: FAILED (run ${id}): its result could not be imported: ${(e as Error).message}`);
          continue;
        }
        if (imported) {
          try { writeFileSync(join(store.runDir(runId), 'worker.log'), bundle.log); } catch { /* best effort */ }
        }
        const r = store.getRun(runId)!;
        recorded++;
        pending.delete(key);
        o.log(`[${recorded}/${total}] ${key}: ${r.status === 'diverged' ? `diverged at step ${r.firstNanStep}` : r.status} on ${bundle.host} (run ${runId})${imported ? '' : ' (already recorded)'}`);
      } else if (j.state === 'failed') {
        const runId = recordFailure(store, sweepId, byKey.get(key)!, j.job);
        recorded++;
        failed++;
        pending.delete(key);
        o.log(`[${recorded}/${total}] ${key}: FAILED (run ${runId}): ${j.job.failedReason}`);
      } else if (j.state === 'active') {
        mirrorRunning(store, sweepId, byKey.get(key)!, j.job.progress as CellProgress | undefined);
      } else if (IN_FLIGHT.has(j.state)) {
        // Back in the queue (its worker died or handed it back): queued cells have no run.
        const prev = store.findCell(sweepId, key);
        if (prev && prev.status === 'running') store.deleteRun(prev.id);
      }
    }
    if (pending.size && !o.stop.stop) await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return { recorded, failed, missing, stopped: o.stop.stop && pending.size > 0 };
}

/**
 * Which cells need a job: not done in the store and with no job in Redis that is still in flight
 * or done (those are followed). A failed job is removed so that its cell can be enqueued again.
 */
export async function cellsToEnqueue(q: SweepQueue, store: Store, sweepId: string, cells: readonly QueueCell[]): Promise<{ todo: QueueCell[]; inFlight: number; done: number }> {
  const todo: QueueCell[] = [];
  let inFlight = 0, done = 0;
  for (const c of cells) {
    const r = store.findCell(sweepId, c.key);
    if (r && DONE.has(r.status)) { done++; continue; }
    const j = await q.job(sweepId, c.key);
    if (j && (j.state === 'completed' || IN_FLIGHT.has(j.state))) { inFlight++; continue; }
    if (j) await j.job.remove();
    if (r) store.deleteRun(r.id, { removeFiles: true });
    todo.push(c);
  }
  return { todo, inFlight, done };
}
