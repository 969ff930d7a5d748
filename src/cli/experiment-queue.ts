// nanscope experiment NAME --queue redis://...: an experiment's cells as BullMQ jobs for
// `nanscope worker` processes (see sweep-queue.ts), recorded under one experiment sweep in this
// store; the table and the expected-outcome check are then read back from the store exactly as
// `--from-store` does, so they show what was recorded, wherever it ran.
import { isDeepStrictEqual } from 'node:util';
import type { Redis } from 'ioredis';
import type { Store } from '../store/index.js';
import type { TrainConfig } from '../train/config.js';
import { createExperimentSweep, planCells, cellKey, reloadExperiment, type ExperimentRun, type Overrides } from '../experiments/run.js';
import { trainFlags } from '../experiments/scale.js';
import type { Experiment, Scale } from '../experiments/types.js';
import { SweepQueue, followSweep, type QueueCell } from '../queue/coordinator.js';
import { redact } from '../queue/url.js';
import { parseArgs } from './args.js';
import { TRAIN_FLAGS, configFromFlags } from './train-flags.js';

/**
 * The `nanscope train` flags of a cell's config; refused unless they parse back to the very same
 * config, so a worker never runs something other than what the experiment planned.
 */
export function cellArgs(c: TrainConfig): string[] {
  const args = [...trainFlags(c), '--checkpoint-every', String(c.checkpointEvery), '--probe-every', String(c.probeEvery),
    '--hist-every', String(c.histEvery), '--on-nan', c.onNan, '--weight-decay', String(c.weightDecay)];
  if (c.dataDir) args.push('--data-dir', c.dataDir);
  const back = configFromFlags(parseArgs(args, TRAIN_FLAGS, 'train'));
  if (!isDeepStrictEqual(back, c)) {
    const keys = (Object.keys(c) as (keyof TrainConfig)[]).filter((k) => !isDeepStrictEqual(back[k], c[k]));
    throw new Error(`cannot send this cell as train flags: ${keys.map((k) => `${k} ${JSON.stringify(c[k])} came back as ${JSON.stringify(back[k])}`).join('; ')}`);
  }
  return args;
}

export interface QueuedExperiment { store: Store; scale: Scale; seeds: number[]; overrides: Overrides; only: string[]; stop: { stop: boolean } }

export async function runExperimentQueued(exp: Experiment, o: QueuedExperiment, redis: Redis, url: string): Promise<ExperimentRun> {
  const err = (s: string) => process.stderr.write(`${s}\n`);
  const cells = planCells(exp, o.scale, o.seeds, o.overrides, o.only);
  if (!cells.length) throw new Error(`${exp.name}: no arm matches ${o.only.join(', ')}`);
  const qcells: QueueCell[] = cells.map((c) => ({ key: cellKey(c), args: cellArgs(c.config), config: c.config, name: `${exp.name} ${c.arm} seed ${c.seed}`, kind: 'experiment' }));
  const sweep = createExperimentSweep(o.store, exp, o.scale, o.seeds, o.overrides, o.only, cells, new Date(), { queue: redact(url) });
  const q = new SweepQueue(redis);
  try {
    await q.enqueue(sweep.id, qcells);
    err(`experiment ${exp.name}: ${qcells.length} cells enqueued on ${redact(url)} as sweep ${sweep.id}; start workers with: nanscope worker --queue ${redact(url)}`);
    const res = await followSweep(q, o.store, sweep.id, qcells, { log: err, stop: o.stop });
    for (const key of res.missing) err(`${key}: its job is no longer in Redis (removed or flushed)`);
    if (!res.stopped && !res.missing.length) await q.removeSweep(sweep.id);
    else err(`not every cell is recorded here: the table below shows those that are (cells still queued stay in Redis for the workers)`);
    const run = reloadExperiment(exp, o.store, sweep.id);
    o.store.setSweepStatus(sweep.id, run.interrupted ? 'interrupted' : 'finished');
    return run;
  } finally {
    await q.close();
  }
}
