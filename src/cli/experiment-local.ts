// nanscope experiment NAME --workers N | --resume SWEEP_ID: an experiment's cells as child
// processes (`nanscope train --quiet`, the sweep runner's cell process), at most N at a time,
// recorded under one experiment sweep. --resume plans the cells again from the experiment's
// current list (so cells appended to it since are added to the sweep) and keeps every cell
// already recorded as finished or diverged with the same config: only new or unfinished cells
// run. The table and the check are then read back from the store, as --from-store does.
import type { ChildProcess } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import type { Store } from '../store/index.js';
import type { TrainConfig } from '../train/config.js';
import { cellKey, reloadExperiment, type ExperimentRun, type Overrides } from '../experiments/run.js';
import type { Cell, Experiment, Scale } from '../experiments/types.js';
import { cellTrainArgv, runCellProcess, failureTail } from './cell-process.js';
import { cellArgs } from './experiment-queue.js';
import { DONE } from './sweep-table.js';
import { openExperimentSweep } from './experiment-sweep.js';

export interface LocalExperiment {
  store: Store; scale: Scale; seeds: number[]; overrides: Overrides; only: string[]; stop: { stop: boolean };
  workers: number;
  /** Continue this experiment sweep (its scale, seeds, overrides and arm filter are the stored ones). */
  resume?: string;
}

/** A cell's planned work, up to a constant: steps x images per batch x pixels per image. */
function cost(c: TrainConfig): number {
  const perEpoch = Math.ceil((c.limitTrain ?? 60000) / c.batchSize);
  return Math.min(c.maxSteps ?? Infinity, perEpoch * c.epochs) * c.batchSize * c.resize * c.resize;
}

export async function runExperimentLocal(exp: Experiment, o: LocalExperiment): Promise<ExperimentRun> {
  const err = (s: string) => process.stderr.write(`${s}\n`);
  o.store.interruptStaleRuns();
  const { sweepId, cells } = openExperimentSweep(exp, o);
  const args = new Map(cells.map((c) => [cellKey(c), cellArgs(c.config)])); // every cell's flags checked before any starts
  const todo: Cell[] = [];
  let kept = 0, elsewhere = 0;
  for (const c of cells) {
    const r = o.store.findCell(sweepId, cellKey(c));
    if (r && DONE.has(r.status) && isDeepStrictEqual(r.config, c.config)) { kept++; continue; }
    if (r && o.store.writerState(r) !== 'dead') { elsewhere++; continue; }
    if (r) o.store.deleteRun(r.id, { removeFiles: true }); // unfinished or planned differently now: run it again from scratch
    todo.push(c);
  }
  // Cheapest first (planned steps x pixels x batch): a run cut short (Ctrl-C, a deadline) has then
  // recorded the most cells, and a long cell does not hold back the short ones behind it. The
  // table keeps the experiment's own order (it is read back in the sweep's planned order).
  todo.sort((a, b) => cost(a.config) - cost(b.config));
  const workers = Math.min(o.workers, Math.max(1, todo.length));
  err(`experiment ${exp.name}: sweep ${sweepId}: ${cells.length} cells, ${kept} already recorded${elsewhere ? `, ${elsewhere} running in another process` : ''}, ${todo.length} to run, ${workers} at a time`);
  const running = new Set<ChildProcess>();
  let done = 0;
  const runCell = async (c: Cell) => {
    const key = cellKey(c);
    const argv = cellTrainArgv(args.get(key)!, o.store.root, sweepId, key, `${exp.name} ${c.arm} seed ${c.seed}`);
    const { code, signal, output, run: r } = await runCellProcess(argv, o.store, sweepId, key, running);
    done++;
    const what = code === 0 ? 'finished' : code === 3 ? `diverged at step ${r?.firstNanStep ?? '?'}` : code === 130 || o.stop.stop ? 'stopped' : `FAILED (exit ${code ?? signal})`;
    if (what.startsWith('FAILED')) err(failureTail(output));
    err(`[${done}/${todo.length}] ${exp.name} ${key}: ${what}${r ? ` (run ${r.id}, verdict ${(r.verdict as { run?: string } | null)?.run ?? '-'})` : ''}`);
  };
  // Ctrl-C sets o.stop (signals.ts): the running cells are asked to stop at their next step.
  const poll = setInterval(() => { if (o.stop.stop) for (const ch of running) ch.kill('SIGTERM'); }, 200);
  let next = 0;
  const worker = async () => { while (!o.stop.stop && next < todo.length) await runCell(todo[next++]); };
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    clearInterval(poll);
  }
  const run = reloadExperiment(exp, o.store, sweepId);
  o.store.setSweepStatus(sweepId, run.interrupted ? 'interrupted' : 'finished');
  if (run.interrupted) err(`not complete; continue with: nanscope experiment ${exp.name} --resume ${sweepId} --runs-dir ${o.store.root}`);
  return run;
}
