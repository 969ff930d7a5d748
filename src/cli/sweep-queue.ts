// nanscope sweep --queue redis://...: the cells become BullMQ jobs that `nanscope worker` processes
// on any machine run; this process enqueues what is not done yet and follows until every cell is
// recorded in its store (or returns at once with --detach). Ctrl-C stops only the following: the
// workers go on, and --resume SWEEP_ID --queue URL picks the results up later.
import type { Redis } from 'ioredis';
import type { Store } from '../store/index.js';
import { SweepQueue, cellsToEnqueue, followSweep, type QueueCell } from '../queue/coordinator.js';
import { redact } from '../queue/url.js';
import { DONE, outcomeTable } from './sweep-table.js';
import { cellConfig, type GridCell, type SweepPlan } from './sweep.js';
import { onStopSignals } from './signals.js';

export async function runQueuedSweep(store: Store, sweepId: string, plan: SweepPlan, grid: GridCell[], redis: Redis, url: string, detach: boolean): Promise<number> {
  const err = (s: string) => process.stderr.write(`${s}\n`);
  const cells: QueueCell[] = grid.map((c) => {
    const args = [...plan.fixed, ...c.args];
    return { key: c.key, args, config: cellConfig(args, c.key) };
  });
  const again = `nanscope sweep --resume ${sweepId} --queue ${redact(url)} --runs-dir ${store.root}`;
  const q = new SweepQueue(redis);
  try {
    const { todo, inFlight, done } = await cellsToEnqueue(q, store, sweepId, cells);
    await q.enqueue(sweepId, todo);
    err(`sweep ${sweepId}: ${cells.length} cells, ${done} already done${inFlight ? `, ${inFlight} already in the queue` : ''}, ${todo.length} enqueued on ${redact(url)}`);
    if (detach) {
      store.releaseSweep(sweepId); // the workers carry it on; this process ending is no interruption
      err(`detached. Workers: nanscope worker --queue ${redact(url)}\nresults into ${store.root}: ${again}`);
      return 0;
    }
    const stop = { stop: false };
    const onSig = () => {
      if (stop.stop) process.exit(130);
      stop.stop = true;
      err(`\nsweep: no longer following; the workers go on with the queued cells. Import their results with:\n  ${again}`);
    };
    const offSignals = onStopSignals(onSig);
    let res;
    try {
      res = await followSweep(q, store, sweepId, cells, { log: err, stop });
    } finally {
      offSignals();
    }
    const runs = new Map(cells.map((c) => [c.key, store.findCell(sweepId, c.key)] as const));
    process.stdout.write(`\nsweep ${sweepId}\n${outcomeTable(cells, runs)}\n`);
    if (res.stopped) return 130;
    for (const key of res.missing) err(`${key}: its job is no longer in Redis (removed or flushed); ${again} enqueues it again`);
    const complete = cells.every((c) => DONE.has(runs.get(c.key)?.status ?? ''));
    // Every cell is in the store now (done or failed): the jobs and their bundles can leave Redis.
    if (!res.missing.length) await q.removeSweep(sweepId);
    store.setSweepStatus(sweepId, complete ? 'finished' : res.failed ? 'failed' : 'interrupted');
    if (!complete) process.stdout.write(`\nnot complete; enqueue the unfinished cells again with: ${again}\n`);
    return complete ? 0 : 1;
  } finally {
    await q.close();
  }
}
