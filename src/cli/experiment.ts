// nanscope experiment <name>: run one of the named experiments (the seed's phenomena, the BN
// fix, vanishing gradients, d2l's baseline), print its table and whether its expected outcome
// held (exit 0 held, 1 not held, 130 interrupted), and with --write-results regenerate its
// block of docs/RESULTS.md and its plot in docs/img/.
import { resolve } from 'node:path';
import { parseArgs, helpText, str, num, bool, list, UsageError, type Flags } from './args.js';
import { stopAfterStep } from './signals.js';
import { RUNS_DIR_FLAG, openRuns } from './common.js';
import { EXPERIMENTS, findExperiment } from '../experiments/index.js';
import { runExperiment, reloadExperiment, planCells, seedList, type Overrides, type ExperimentRun } from '../experiments/run.js';
import { resultTable, textTable } from '../experiments/table.js';
import { writeResults, plotPath, chartsFor } from '../experiments/results.js';
import { renderPngs } from '../experiments/plot.js';
import { SCALES, type Scale } from '../experiments/types.js';
import { describeConfig } from '../experiments/scale.js';
import { checkQueueUrl } from '../queue/url.js';
import { estimateCells, formatDuration, CONFIRM_SECONDS, WARMUP_STEPS } from '../experiments/estimate.js';

const FLAGS: Flags = {
  scale: { type: 'string', help: 'cpu (documented reduction, minutes on 2 cores) | full (d2l: 224x224, all data, 10 epochs)', default: 'cpu' },
  seeds: { type: 'int', help: 'run seeds 0..N-1 (default: the experiment\'s own number)' },
  'runs-dir': RUNS_DIR_FLAG,
  threads: { type: 'int', help: 'intra-op threads per run (default: 1 at --scale cpu, as the recorded outcomes were measured; all cores at full)' },
  'write-results': { type: 'bool', help: 'regenerate this experiment\'s block of docs/RESULTS.md and its plot' },
  results: { type: 'string', help: 'results file for --write-results', default: 'docs/RESULTS.md' },
  'limit-train': { type: 'int', help: 'override: train images per run (stratified)' },
  'limit-test': { type: 'int', help: 'override: test images per run' },
  'max-steps': { type: 'int', help: 'override: stop each run after N steps' },
  epochs: { type: 'int', help: 'override: epochs per run' },
  'data-dir': { type: 'string', help: 'folder with the Fashion-MNIST IDX files' },
  arm: { type: 'list', help: 'run only the arms whose name contains this text (repeatable)' },
  queue: { type: 'string', help: 'redis://[:PASSWORD@]HOST:PORT[/DB]: run the cells on `nanscope worker` processes (any machines) instead of here' },
  workers: { type: 'int', help: 'run the cells as child processes, at most N at a time (default: one after another in this process)' },
  resume: { type: 'string', help: 'continue this experiment sweep: run only its cells not yet recorded as finished or diverged, and cells added to the experiment since (scale, seeds, overrides and --arm are the stored ones); with --queue they are enqueued for the workers again' },
  'from-store': { type: 'string', help: 'train nothing: rebuild the table (and --write-results) from the runs recorded under this experiment sweep id; an unfinished sweep\'s block lists the cells without an outcome' },
  list: { type: 'bool', help: 'list the experiments and exit' },
  plan: { type: 'bool', help: 'print the runs the experiment would make and exit' },
  yes: { type: 'bool', help: 'start a --scale full run even when its measured estimate here is over an hour' },
  verbose: { type: 'bool', help: 'print each run\'s epoch lines' },
  help: { type: 'bool', help: 'show this help' },
};

const posInt = (v: number | undefined, flag: string): number | undefined => {
  if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new UsageError(`experiment: --${flag} must be a positive integer, got ${v}`);
  return v;
};

export async function experimentCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, FLAGS, 'experiment');
  const names = EXPERIMENTS.map((e) => e.name).join(', ');
  if (bool(p, 'help')) { process.stdout.write(helpText('experiment', `<name> [flags]   (${names})`, FLAGS)); return 0; }
  if (bool(p, 'list')) {
    for (const e of EXPERIMENTS) process.stdout.write(`${e.name.padEnd(14)} ${e.title}\n`);
    return 0;
  }
  if (p.positional.length !== 1) throw new UsageError(`experiment: name one experiment (${names})`);
  const exp = findExperiment(p.positional[0]);
  if (!exp) throw new UsageError(`experiment: unknown experiment '${p.positional[0]}' (${names})`);
  const scale = str(p, 'scale') as Scale;
  if (!SCALES.includes(scale)) throw new UsageError(`experiment: --scale must be cpu or full, got '${scale}'`);
  if (!exp.cells(scale, seedList(1)).length) throw new UsageError(`experiment: ${exp.name} has no cells at --scale ${scale}`);
  if (exp.fixedSeeds && num(p, 'seeds') !== undefined) throw new UsageError(`experiment: ${exp.name}'s cells carry their own seeds; drop --seeds`);
  const workers = posInt(num(p, 'workers'), 'workers');
  const resume = str(p, 'resume');
  if (resume !== undefined) {
    const given = ['seeds', 'limit-train', 'limit-test', 'max-steps', 'epochs', 'threads', 'data-dir', 'from-store'].filter((k) => p.flags[k] !== undefined);
    if (list(p, 'arm').length) given.push('arm');
    if (given.length) throw new UsageError(`experiment: --resume takes the settings from the stored sweep; drop ${given.map((k) => `--${k}`).join(', ')}`);
  }
  if (workers !== undefined && (str(p, 'queue') !== undefined || str(p, 'from-store') !== undefined)) throw new UsageError('experiment: --workers runs the cells here; drop --queue / --from-store');
  const nSeeds = posInt(num(p, 'seeds'), 'seeds') ?? exp.defaultSeeds[scale];
  const threads = posInt(num(p, 'threads'), 'threads');
  const overrides: Overrides = {
    limitTrain: posInt(num(p, 'limit-train'), 'limit-train'), limitTest: posInt(num(p, 'limit-test'), 'limit-test'),
    maxSteps: posInt(num(p, 'max-steps'), 'max-steps'), epochs: posInt(num(p, 'epochs'), 'epochs'), threads, dataDir: str(p, 'data-dir'),
  };
  for (const k of Object.keys(overrides) as (keyof Overrides)[]) if (overrides[k] === undefined) delete overrides[k];
  const seeds = seedList(nSeeds);
  const out = process.stdout;
  out.write(`experiment ${exp.name} (--scale ${scale}): ${exp.title}\n${exp.expected}\n\n`);
  const only = list(p, 'arm');
  const planned = planCells(exp, scale, seeds, overrides, only);
  if (!planned.length) throw new UsageError(`experiment: no arm of ${exp.name} matches ${only.map((a) => `'${a}'`).join(', ')} (arms: ${[...new Set(exp.cells(scale, seeds).map((c) => c.arm))].join('; ')})`);
  if (bool(p, 'plan')) {
    for (const c of planned) out.write(`  ${c.arm} seed ${c.seed}: ${describeConfig(c.config)}\n`);
    return 0;
  }
  const queueUrl = str(p, 'queue');
  if (queueUrl !== undefined) {
    checkQueueUrl(queueUrl);
    if (str(p, 'from-store')) throw new UsageError('experiment: --from-store trains nothing; drop --queue');
  }
  const from = str(p, 'from-store');
  // The full scale can run for days on a CPU: say how long before starting, measured here (cells sent to workers run elsewhere).
  if (scale === 'full' && !from && queueUrl === undefined) {
    const est = await estimateCells(planned);
    const per = est.shapes.map((s) => `${s.example.model} ${s.example.resize}px batch ${s.example.batchSize} bn ${s.example.bn}: ${s.imgPerS.toFixed(0)} img/s x ${s.cells} runs`).join('; ');
    out.write(`estimate on this machine: ${planned.length} runs, about ${formatDuration(est.seconds)} (training img/s from a ${WARMUP_STEPS}-step warm-up per net: ${per})\n`);
    if (est.seconds > CONFIRM_SECONDS && !bool(p, 'yes')) {
      throw new UsageError(`experiment: ${exp.name} --scale full would take about ${formatDuration(est.seconds)} on this machine (over an hour); pass --yes to start it`);
    }
  }
  // Redis is reached (or refused with its URL) before the store is touched or a job is added.
  const redis = queueUrl !== undefined ? await (await import('../queue/redis.js')).connectRedis(queueUrl) : null;
  const store = openRuns(str(p, 'runs-dir')!);
  const stop = { stop: false };
  const offSignals = stopAfterStep(stop, (s) => process.stderr.write(s));
  try {
    const run: ExperimentRun = from ? reloadExperiment(exp, store, from)
      : redis ? await (await import('./experiment-queue.js')).runExperimentQueued(exp, { store, scale, seeds, overrides, only, stop, resume }, redis, queueUrl!)
        : workers !== undefined || resume !== undefined
          ? await (await import('./experiment-local.js')).runExperimentLocal(exp, { store, scale, seeds, overrides, only, stop, workers: workers ?? 1, resume })
        : await runExperiment(exp, { store, scale, seeds, overrides, only, stopSignal: stop, verbose: bool(p, 'verbose') });
    out.write(`\n${textTable(resultTable(exp, run.results))}\n\n`);
    if (exp.summary && run.results.length) for (const t of exp.summary(run.results)) out.write(`${textTable(t)}\n\n`);
    for (const t of run.results.length ? exp.tables?.(run.results) ?? [] : []) out.write(`${t.title}\n${textTable(t)}\n\n`);
    const said = run.results.length ? exp.conclusion?.(run.results) : undefined;
    if (said) out.write(`what the numbers support here:\n${said.en.map((s) => `  - ${s}`).join('\n')}\n${said.zh.map((s) => `  - ${s}`).join('\n')}\n\n`);
    out.write(`expected outcome ${run.outcome.held ? 'HELD' : 'did NOT hold'}:\n`);
    for (const c of run.outcome.checks) out.write(`  [${c.ok ? 'x' : ' '}] ${c.text}\n`);
    out.write(`\nruns recorded under sweep ${run.sweepId} in ${store.root}\n`);
    // An unfinished sweep's block is written only on purpose (--from-store), and then says what is missing.
    if (bool(p, 'write-results') && (!run.interrupted || from)) {
      const path = resolve(str(p, 'results')!);
      const charts = chartsFor(run).map(([suffix, chart]) => ({ path: plotPath(path, exp.name, run.scale, suffix), chart }));
      const r = await renderPngs(charts);
      if (r.skipped) process.stderr.write(`plots skipped: ${r.skipped}\n`);
      writeResults(path, run, { threads, plots: r.written });
      out.write(`wrote ${[path, ...r.written].join(', ')}\n`);
    }
    if (run.interrupted) return 130;
    return run.outcome.held ? 0 : 1;
  } finally {
    offSignals();
    redis?.disconnect();
    store.close();
  }
}
