// nanscope train: one d2l training run, watched, stored, and explained.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Trainer } from '../train/trainer.js';
import { parseArgs, helpText, str, bool, num, UsageError, type Flags } from './args.js';
import { basename } from 'node:path';
import { TRAIN_FLAGS, configFromFlags, modelsHelp } from './train-flags.js';
import { RUNS_DIR_FLAG, LANG_FLAG, openRuns, splitOut, loadData, printVerdict, lang, modelFor } from './common.js';
import { startDashboard } from './dashboard.js';
import { stopAfterStep } from './signals.js';
import { fixFits } from './resume.js';
import type { TrainConfig } from '../train/config.js';
import { stopWhenParentDies } from './parent-watch.js';
import { resizeCacheBudgetMB } from '../data/index.js';

const FLAGS: Flags = {
  ...TRAIN_FLAGS,
  out: { type: 'string', help: 'run folder runs/NAME (its parent is the runs folder)' },
  'runs-dir': RUNS_DIR_FLAG,
  name: { type: 'string', help: 'run name (default: model and settings)' },
  serve: { type: 'bool', help: 'start the dashboard alongside the run' },
  port: { type: 'int', help: 'dashboard port with --serve', default: 8787 },
  lang: LANG_FLAG,
  quiet: { type: 'bool', help: 'no progress output' },
  'sweep-id': { type: 'string', help: 'record the run as a cell of this sweep (set by nanscope sweep)' },
  'cell-key': { type: 'string', help: 'the cell key within --sweep-id (set by nanscope sweep)' },
  help: { type: 'bool', help: 'show this help' },
};

export async function trainCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, FLAGS, 'train');
  if (bool(p, 'help')) { process.stdout.write(helpText('train', '[flags]', FLAGS, modelsHelp())); return 0; }
  if (p.positional.length) throw new UsageError(`train: unexpected argument '${p.positional[0]}'`);
  const config = configFromFlags(p);
  const l = lang(str(p, 'lang'));
  const out = str(p, 'out');
  const { root, id } = out ? splitOut(out) : { root: str(p, 'runs-dir')!, id: undefined };
  if (id && existsSync(join(root, 'nanscope.db'))) {
    // A run that failed before its first step holds nothing: its name is free again.
    const s = openRuns(root);
    try { s.discardUnstarted(id); } finally { s.close(); }
  }
  if (id && existsSync(join(root, id))) throw new UsageError(`train: ${out} already exists (pick another --out, or nanscope resume ${id})`);
  // A bad NANSCOPE_RESIZE_CACHE_MB is a usage error before any data is read or run is made.
  try { resizeCacheBudgetMB(); } catch (e) { throw new UsageError((e as Error).message); }
  const model = await modelFor(config); // a model file's errors come before any data or run
  const data = await loadData(config);
  const store = openRuns(root);
  const label = config.modelFile ? basename(config.modelFile).replace(/\.[^.]+$/, '') : config.model;
  const name = str(p, 'name') ?? `${label}-lr${config.lr}-bn${config.bn}-s${config.seed}`;
  const sweepId = str(p, 'sweep-id'), cellKey = str(p, 'cell-key');
  if (!sweepId !== !cellKey) throw new UsageError('train: --sweep-id and --cell-key go together');
  const claim = sweepId ? store.claimCell(sweepId, cellKey!, { id, name, kind: 'sweep-cell', config, seed: config.seed }) : null;
  if (claim && !claim.created) throw new UsageError(`train: sweep ${sweepId} already has run ${claim.run.id} for cell ${cellKey}`);
  const run = claim?.run ?? store.createRun({ id, name, kind: 'train', config, seed: config.seed });
  process.stderr.write(`run ${run.id} -> ${store.runDir(run.id)}\n`);
  const dash = bool(p, 'serve') ? await startDashboard(store.root, num(p, 'port')!) : null;
  if (dash) process.stderr.write(`dashboard: ${dash.url}#/run/${run.id}\n`);
  const stop = { stop: false };
  const offSignals = stopAfterStep(stop, (s) => process.stderr.write(s));
  const unwatch = stopWhenParentDies(stop);
  let trainer: Trainer | null = null;
  try {
    trainer = new Trainer(config, { store, runId: run.id, data, model, stopSignal: stop, quiet: bool(p, 'quiet') });
    const r = await trainer.run();
    printVerdict(r.verdict, l);
    if (r.report) {
      process.stdout.write(`\nstate before the bad step: ${join(store.runDir(run.id), 'last-good.st')}\n` +
        `  nanscope replay ${run.id} --runs-dir ${root}\n  nanscope resume ${run.id} --runs-dir ${root} --fix ${firstFit(config, r.verdict.fixes.map((f) => f.fix))}\n`);
    }
    return r.exitCode;
  } catch (e) {
    store.setStatus(run.id, 'failed', { error: e instanceof Error ? e.message : String(e) });
    if (!claim) store.discardUnstarted(run.id); // failed before its first step: nothing to keep, the name is free (a sweep keeps its failed cells)
    throw e;
  } finally {
    offSignals();
    unwatch();
    trainer?.dispose();
    await dash?.close();
    store.close();
  }
}

/** The verdict's best fix this net can take (a lower lr always applies). */
function firstFit(c: TrainConfig, fixes: string[]): string {
  return fixes.find((f) => fixFits(c, f.split('+'))) ?? `lr=${c.lr / 10}`;
}
