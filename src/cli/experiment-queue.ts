// nanscope experiment NAME --queue redis://...: an experiment's cells as BullMQ jobs for
// `nanscope worker` processes (see sweep-queue.ts), recorded under one experiment sweep in this
// store; the table and the expected-outcome check are then read back from the store exactly as
// `--from-store` does, so they show what was recorded, wherever it ran.
import { isDeepStrictEqual } from 'node:util';
import type { Redis } from 'ioredis';
import type { Store } from '../store/index.js';
import { defaultConfig, type TrainConfig } from '../train/config.js';
import { configArgs } from '../train/config-flags.js';
import { cellKey, reloadExperiment, type ExperimentRun } from '../experiments/run.js';
import type { Experiment } from '../experiments/types.js';
import { SweepQueue, cellsToEnqueue, followSweep, type QueueCell } from '../queue/coordinator.js';
import { openExperimentSweep, type SweepChoice } from './experiment-sweep.js';
import { redact } from '../queue/url.js';
import { parseArgs } from './args.js';
import { TRAIN_FLAGS, configFromFlags } from './train-flags.js';

/**
 * The `nanscope train` flags of a cell's config: every flag whose value differs from the model's
 * defaults (config-flags.ts); refused unless they parse back to the very same config (a setting
 * no flag sets, such as maxRollbacks, cannot be sent), so a worker never runs something other
 * than what the experiment planned.
 */
export function cellArgs(c: TrainConfig): string[] {
  const args = configArgs(c, defaultConfig(c.model));
  const back = configFromFlags(parseArgs(args, TRAIN_FLAGS, 'train'));
  if (!isDeepStrictEqual(back, c)) {
    const keys = (Object.keys(c) as (keyof TrainConfig)[]).filter((k) => !isDeepStrictEqual(back[k], c[k]));
    throw new Error(`cannot send this cell as train flags: ${keys.map((k) => `${k} ${JSON.stringify(c[k])} came back as ${JSON.stringify(back[k])}`).join('; ')}`);
  }
  return args;
}

export interface QueuedExperiment extends SweepChoice { stop: { stop: boolean } }

export async function runExperimentQueued(exp: Experiment, o: QueuedExperiment, redis: Redis, url: string): Promise<ExperimentRun> {
  const err = (s: string) => process.stderr.write(`${s}\n`);
  const { sweepId, cells } = openExperimentSweep(exp, { ...o, extra: { queue: redact(url) } });
  if (!cells.length) throw new Error(`${exp.name}: no arm matches ${o.only.join(', ')}`);
  const qcells: QueueCell[] = cells.map((c) => ({ key: cellKey(c), args: cellArgs(c.config), config: c.config, name: `${exp.name} ${c.arm} seed ${c.seed}`, kind: 'experiment' }));
  const q = new SweepQueue(redis);
  try {
    // On --resume only the cells neither recorded as done nor still queued are enqueued again
    // (Redis may have been flushed or restarted since); a new sweep enqueues them all.
    const { todo, inFlight, done } = await cellsToEnqueue(q, o.store, sweepId, qcells);
    await q.enqueue(sweepId, todo);
    err(`experiment ${exp.name}: sweep ${sweepId}: ${qcells.length} cells, ${done} already recorded${inFlight ? `, ${inFlight} already in the queue` : ''}, ${todo.length} enqueued on ${redact(url)}; start workers with: nanscope worker --queue ${redact(url)}`);
    const res = await followSweep(q, o.store, sweepId, qcells, { log: err, stop: o.stop });
    for (const key of res.missing) err(`${key}: its job is no longer in Redis (removed or flushed)`);
    if (!res.stopped && !res.missing.length) await q.removeSweep(sweepId);
    else err(`not every cell is recorded here: the table below shows those that are (cells still queued stay in Redis for the workers; continue with --resume ${sweepId} --queue ${redact(url)})`);
    const run = reloadExperiment(exp, o.store, sweepId);
    o.store.setSweepStatus(sweepId, run.interrupted ? 'interrupted' : 'finished');
    return run;
  } finally {
    await q.close();
  }
}
