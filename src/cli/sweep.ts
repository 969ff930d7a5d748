// nanscope sweep --grid k=v1,v2 --grid seed=0..9 [train flags] [--workers N]: a grid of training
// runs, each a child process running `nanscope train --quiet` (at most --workers at a time),
// each recorded in the store as a cell of one sweep (sweep id + cell key). --resume SWEEP_ID
// continues an interrupted sweep: finished and diverged cells are kept, unfinished ones
// (stopped, interrupted, failed, or whose worker died) are discarded and run again from scratch.
// Every grid value is parsed and every cell's config validated before anything starts.
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { parseArgs, helpText, str, num, list, bool, UsageError, type Flags, type FlagSpec } from './args.js';
import { TRAIN_FLAGS, configFromFlags } from './train-flags.js';
import { flagOf } from '../train/config-flags.js';
import { RUNS_DIR_FLAG, openRuns } from './common.js';
import { onStopSignals } from './signals.js';
import { cellTrainArgv, runCellProcess, failureTail } from './cell-process.js';
import { checkQueueUrl, redact } from '../queue/url.js';
import { DONE, outcomeTable } from './sweep-table.js';

export { outcomeTable };
import type { Store, RunRow } from '../store/index.js';
import type { TrainConfig } from '../train/config.js';

/** Train flags as fixed settings: no defaults, so only what the user typed is forwarded. */
const FIXED: Flags = Object.fromEntries(Object.entries(TRAIN_FLAGS).map(([k, s]) => [k, { ...s, default: undefined } as FlagSpec]));

const FLAGS: Flags = {
  grid: { type: 'list', help: 'KEY=V1,V2,... or KEY=A..B (integers, inclusive); KEY is a train flag without -- (repeatable)' },
  workers: { type: 'int', help: 'parallel worker processes (default: floor(cores / threads per run), at least 1)', min: 1 },
  queue: { type: 'string', help: 'redis://[:PASSWORD@]HOST:PORT[/DB]: enqueue the cells for `nanscope worker` processes on any machine instead of running them here' },
  detach: { type: 'bool', help: 'with --queue: enqueue and return; --resume SWEEP_ID --queue URL later imports what the workers finished' },
  resume: { type: 'string', help: 'continue sweep SWEEP_ID: keep finished cells, redo the rest' },
  name: { type: 'string', help: 'sweep name' },
  'runs-dir': RUNS_DIR_FLAG,
  help: { type: 'bool', help: 'show this help' },
  ...FIXED,
};

/** Grid keys that cannot vary per cell (the sweep owns them); named by config key, so they follow a renamed flag. */
const NOT_GRIDDABLE = new Set((['threads', 'dataDir', 'device'] as const).map((k) => flagOf(k).slice(2)));

export interface GridAxis { key: string; values: string[] }
export interface GridCell { key: string; args: string[] }

/** Parses one --grid spec; throws UsageError with one line on anything malformed. */
export function parseGridSpec(spec: string): GridAxis {
  const bad = (why: string): never => { throw new UsageError(`--grid ${spec}: ${why}`); };
  const eq = spec.indexOf('=');
  if (eq < 0) bad('expected KEY=V1,V2,... (e.g. lr=0.01,0.1 or seed=0..9)');
  const key = spec.slice(0, eq).trim().replace(/^--/, '');
  if (!key) bad('missing key before =');
  const s = TRAIN_FLAGS[key];
  if (!s || NOT_GRIDDABLE.has(key)) {
    bad(`unknown key '${key}' (use a train flag: ${Object.keys(TRAIN_FLAGS).filter((k) => !NOT_GRIDDABLE.has(k)).join(', ')})`);
  }
  const raw = spec.slice(eq + 1);
  if (raw.trim() === '') bad(`no values for ${key}`);
  const values: string[] = [];
  for (const part of raw.split(',')) {
    const v = part.trim();
    if (v === '') bad(`empty value in '${raw}'`);
    const range = /^(-?\d+)\.\.(-?\d+)$/.exec(v);
    if (range) {
      if (s.type !== 'int' && s.type !== 'number') bad(`${key} takes ${s.type} values, not a range`);
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (a > b) bad(`range ${v} is empty (start > end)`);
      if (b - a >= 10000) bad(`range ${v} has more than 10000 values`);
      for (let i = a; i <= b; i++) values.push(String(i));
      continue;
    }
    if (v.includes('..')) bad(`bad range '${v}' (ranges are A..B with integers A <= B)`);
    if (s.type === 'number' || s.type === 'int') {
      const n = Number(v);
      if (!Number.isFinite(n)) bad(`${key} must be a number, got '${v}'`);
      if (s.type === 'int' && !Number.isInteger(n)) bad(`${key} must be an integer, got '${v}'`);
      values.push(String(n));
    } else if (s.type === 'bool') {
      if (v !== 'true' && v !== 'false') bad(`${key} is a switch: values are true or false, got '${v}'`);
      values.push(v);
    } else values.push(v);
  }
  if (new Set(values).size !== values.length) bad(`repeated value in '${raw}'`);
  return { key, values };
}

export function parseGrid(specs: readonly string[]): GridAxis[] {
  if (!specs.length) throw new UsageError('give at least one --grid KEY=V1,V2,...');
  const axes = specs.map(parseGridSpec);
  const seen = new Set<string>();
  for (const a of axes) {
    if (seen.has(a.key)) throw new UsageError(`--grid ${a.key} given twice (put all its values in one --grid)`);
    seen.add(a.key);
  }
  return axes;
}

/** The cartesian product, first axis slowest; each cell's key is "k1=v1,k2=v2". */
export function expandGrid(axes: readonly GridAxis[]): GridCell[] {
  let cells: { parts: string[]; args: string[] }[] = [{ parts: [], args: [] }];
  for (const a of axes) {
    const isBool = TRAIN_FLAGS[a.key].type === 'bool';
    cells = cells.flatMap((c) => a.values.map((v) => ({
      parts: [...c.parts, `${a.key}=${v}`],
      args: [...c.args, ...(isBool ? (v === 'true' ? [`--${a.key}`] : []) : [`--${a.key}`, v])],
    })));
  }
  return cells.map((c) => ({ key: c.parts.join(','), args: c.args }));
}

/** The fixed train flags as typed, rebuilt as argv (only those present). */
function fixedArgs(flags: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of Object.keys(TRAIN_FLAGS)) {
    const v = flags[k];
    if (v === undefined) continue;
    if (TRAIN_FLAGS[k].type === 'bool') { if (v === true) out.push(`--${k}`); } else out.push(`--${k}`, String(v));
  }
  return out;
}

/** Validates a cell's full train argv exactly as `nanscope train` will; returns its config. */
export function cellConfig(args: string[], key: string): TrainConfig {
  try {
    return configFromFlags(parseArgs(args, TRAIN_FLAGS, 'train'));
  } catch (e) {
    throw new UsageError(`cell ${key}: ${(e as Error).message}`);
  }
}

export interface SweepPlan { axes: GridAxis[]; fixed: string[]; threads: number }

export async function sweepCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, FLAGS, 'sweep');
  if (bool(p, 'help')) {
    process.stdout.write(helpText('sweep', '--grid KEY=V1,V2 [--grid ...] [train flags as fixed settings] [--workers N]', FLAGS,
      '\nIn a sweep each worker runs with --threads 1 unless --threads is given; workers default to floor(cores / threads).\n' +
      'Each cell is a child process running `nanscope train --quiet`; Ctrl-C stops them at the next step and\n' +
      '`nanscope sweep --resume SWEEP_ID` runs what is left (finished and diverged cells are kept).\n' +
      'With --queue redis://HOST:PORT the cells become jobs for `nanscope worker` processes on any machines; each\n' +
      'result is imported into this store (README: "Sweeps on several machines").\n' +
      '\nexample: nanscope sweep --model lenet --epochs 2 --grid lr=0.1,0.9 --grid seed=0..3 --grid bn=none,scratch\n'));
    return 0;
  }
  if (p.positional.length) throw new UsageError(`unexpected argument '${p.positional[0]}'`);
  const workersFlag = num(p, 'workers');
  const resumeId = str(p, 'resume');
  const queueUrl = str(p, 'queue');
  if (queueUrl !== undefined) {
    checkQueueUrl(queueUrl);
    if (workersFlag !== undefined) throw new UsageError('--workers is for the local runner; with --queue, start `nanscope worker` processes instead');
  } else if (bool(p, 'detach')) throw new UsageError('--detach needs --queue');
  // A new sweep's grid and every cell's config are validated before the store is even opened.
  let plan: SweepPlan | null = null;
  if (!resumeId) {
    const axes = parseGrid(list(p, 'grid'));
    const fixed = fixedArgs(p.flags);
    for (const a of axes) if (p.flags[a.key] !== undefined) throw new UsageError(`--${a.key} is both a fixed setting and a --grid key`);
    const threads = num(p, 'threads') ?? 1;
    plan = { axes, fixed: fixed.includes('--threads') ? fixed : [...fixed, '--threads', String(threads)], threads };
    for (const c of expandGrid(plan.axes)) {
      const cfg = cellConfig([...plan.fixed, ...c.args], c.key);
      if (queueUrl !== undefined && cfg.model === 'file') throw new UsageError(`cell ${c.key}: --queue runs zoo models only (a model file is code; workers run none from the queue)`);
    }
  } else if (list(p, 'grid').length || fixedArgs(p.flags).length) {
    throw new UsageError('--resume takes the grid and settings from the stored sweep; give no --grid or train flags');
  }
  // Redis is reached (or refused with its URL) before the store is touched or a job is added.
  const redis = queueUrl !== undefined ? await (await import('../queue/redis.js')).connectRedis(queueUrl) : null;
  const store = openRuns(str(p, 'runs-dir')!);
  try {
    let sweepId: string;
    if (resumeId) {
      const s = store.getSweep(resumeId);
      if (!s) throw new UsageError(`no sweep '${resumeId}' in ${store.root}`);
      const g = s.grid as SweepPlan | null;
      if (!g || !Array.isArray(g.axes) || !Array.isArray(g.fixed)) throw new UsageError(`${resumeId} was not made by nanscope sweep`);
      plan = g;
      sweepId = s.id;
      for (const c of expandGrid(plan.axes)) cellConfig([...plan.fixed, ...c.args], c.key);
      store.claimSweep(sweepId); // refused while another live sweep process drives it
    } else {
      // The planned cell keys and the (masked) queue let the dashboard show cells not yet recorded.
      const stored = { ...plan!, cellKeys: expandGrid(plan!.axes).map((c) => c.key), ...(queueUrl ? { queue: redact(queueUrl) } : {}) };
      sweepId = store.createSweep({ name: str(p, 'name') ?? null, grid: stored }).id;
    }
    if (redis) return await (await import('./sweep-queue.js')).runQueuedSweep(store, sweepId, plan!, expandGrid(plan!.axes), redis, queueUrl!, bool(p, 'detach'));
    const workers = workersFlag ?? Math.max(1, Math.floor(availableParallelism() / plan!.threads));
    return await runSweep(store, sweepId, plan!, expandGrid(plan!.axes), workers);
  } finally {
    redis?.disconnect();
    store.close();
  }
}

async function runSweep(store: Store, sweepId: string, plan: SweepPlan, cells: GridCell[], workers: number): Promise<number> {
  const err = (s: string) => process.stderr.write(`${s}\n`);
  store.interruptStaleRuns();
  const todo: GridCell[] = [];
  let kept = 0, elsewhere = 0;
  for (const c of cells) {
    const r = store.findCell(sweepId, c.key);
    if (r && DONE.has(r.status)) { kept++; continue; }
    if (r && store.writerState(r) !== 'dead') { elsewhere++; continue; }
    if (r) store.deleteRun(r.id, { removeFiles: true }); // unfinished: start it again cleanly
    todo.push(c);
  }
  err(`sweep ${sweepId}: ${cells.length} cells, ${kept} already done${elsewhere ? `, ${elsewhere} running in another process` : ''}, ${todo.length} to run, ${Math.min(workers, Math.max(1, todo.length))} workers x ${plan.threads} threads`);
  const running = new Set<ChildProcess>();
  let stopping = false;
  let failed = 0;
  let done = 0;
  const offSignals = onStopSignals(() => {
    if (stopping) return;
    stopping = true;
    err(`\nsweep: stopping: no new cells; asking ${running.size} running cell(s) to stop (resume with: nanscope sweep --resume ${sweepId} --runs-dir ${store.root})`);
    for (const ch of running) ch.kill('SIGTERM');
  });
  const runCell = async (c: GridCell) => {
    const argv = cellTrainArgv([...plan.fixed, ...c.args], store.root, sweepId, c.key);
    const { code, signal, output, run: r } = await runCellProcess(argv, store, sweepId, c.key, running);
    done++;
    const stopped = code === 130 || (stopping && signal !== null);
    const what = code === 0 ? 'finished' : code === 3 ? `diverged at step ${r?.firstNanStep ?? '?'}` : stopped ? 'stopped' : `FAILED (exit ${code ?? signal})`;
    if (code !== 0 && code !== 3 && !stopped) {
      failed++;
      err(failureTail(output));
    }
    err(`[${done}/${todo.length}] ${c.key}: ${what}${r ? ` (run ${r.id})` : ''}`);
  };
  let next = 0;
  const worker = async () => { while (!stopping && next < todo.length) await runCell(todo[next++]); };
  await Promise.all(Array.from({ length: Math.min(workers, todo.length) }, worker));
  offSignals();
  const runs = new Map(cells.map((c) => [c.key, store.findCell(sweepId, c.key)] as const));
  process.stdout.write(`\nsweep ${sweepId}\n${outcomeTable(cells, runs)}\n`);
  const complete = cells.every((c) => DONE.has(runs.get(c.key)?.status ?? ''));
  store.setSweepStatus(sweepId, stopping ? 'interrupted' : complete ? 'finished' : failed ? 'failed' : 'interrupted');
  if (stopping || !complete) process.stdout.write(`\nnot complete; continue with: nanscope sweep --resume ${sweepId} --runs-dir ${store.root}\n`);
  return stopping ? 130 : failed ? 1 : complete ? 0 : 1;
}
