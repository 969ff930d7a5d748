// nanscope doctor RUN: prove a fix. For a run that went bad, each fix the verdict ranks (and
// the obvious pairs of the first three) is tried for a fixed horizon, each in its own worker
// process (at most one per core; one intra-op thread each): lr/clip/warmup from the state
// before the bad step, architecture and initialisation fixes (bn, init, activation,
// scale-pixels) from the initialisation with the same seed, over the same steps. A run that
// never went non-finite is retried from its start. Every trial is a child run; the table
// (fix, held or first non-finite step, loss and accuracy at the horizon, verdict) is printed,
// stored as a 'doctor' event and doctor.json, and the run's verdict re-ranks its fixes by it.
import { d2lNum } from '../diagnose/format.js';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs, helpText, str, num, list, bool, UsageError, type Flags } from './args.js';
import { RUNS_DIR_FLAG, LANG_FLAG, openRuns, loadData, lang, modelFor } from './common.js';
import { findRun, stateBefore } from './runref.js';
import { runLocation, RUN_ARG_HELP } from './run-location.js';
import { applyFixes, fixFits } from './resume.js';
import { mainScript } from './cell-process.js';
import { onStopSignals, stopAfterStep } from './signals.js';
import { Trainer } from '../train/trainer.js';
import type { TrainConfig } from '../train/config.js';
import { writeFileAtomicSync, type Store } from '../store/index.js';
import { candidates, toRow, recommend, recommendation, type TrialOutcome } from '../diagnose/doctor.js';
import { withEvidence, type DoctorRow, type Fix, type Lang } from '../diagnose/index.js';

const FLAGS: Flags = {
  horizon: { type: 'int', help: 'steps each trial runs past the state it starts from (past the bad step for restarts)', default: 30 },
  fix: { type: 'list', help: 'try these fix sets instead of the verdict\'s (a+b for a pair; repeatable)' },
  workers: { type: 'int', help: 'parallel trials (default: one per core)' },
  'runs-dir': RUNS_DIR_FLAG,
  lang: LANG_FLAG,
  trial: { type: 'string', help: '(internal) run one prepared trial: the child run id' },
  help: { type: 'bool', help: 'show this help' },
};

interface TrialPlan { fixes: string[]; config: TrainConfig; from: string | null; runId: string }

export async function doctorCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, FLAGS, 'doctor');
  if (bool(p, 'help')) { process.stdout.write(helpText('doctor', 'RUN [--horizon N] [--fix F ...]', FLAGS, RUN_ARG_HELP)); return 0; }
  const at = runLocation(p.positional[0], str(p, 'runs-dir')!, 'doctor');
  const store = openRuns(at.root);
  try {
    const trial = str(p, 'trial');
    if (trial) return await runTrial(store, trial);
    return await doctor(store, at.id, p, lang(str(p, 'lang')));
  } finally {
    store.close();
  }
}

async function doctor(store: Store, id: string | undefined, p: ReturnType<typeof parseArgs>, l: Lang): Promise<number> {
  const ref = findRun(store, id, 'doctor');
  const v = ref.run.verdict as { run?: string; fixes?: Fix[] } | null;
  const badStep = ref.report?.step ?? null;
  if (badStep === null && (!v?.run || v.run === 'healthy')) {
    process.stdout.write(l === 'en'
      ? `nothing to fix: run ${ref.run.id} never went non-finite and its verdict is ${v?.run ?? 'not recorded'}.\n`
      : `无需修复：训练 ${ref.run.id} 从未出现非有限值，诊断为 ${v?.run ?? '未记录'}。\n`);
    return 0;
  }
  const horizon = num(p, 'horizon')!;
  if (horizon < 1) throw new UsageError(`doctor: --horizon must be >= 1, got ${horizon}`);
  const given = list(p, 'fix').length > 0;
  // Candidates the net cannot take are dropped (a given --fix is not: it gets its own error).
  const sets = given ? list(p, 'fix').map((f) => f.split('+')) : candidates(v?.fixes ?? []).filter((f) => fixFits(ref.config, f));
  if (!sets.length) throw new UsageError(`doctor: the verdict of ${ref.run.id} (${v?.run}) ranks no fix; name some with --fix`);
  // Where trials start and where they stop: the state before the bad step (or the start).
  const start = badStep === null ? null : stateBefore(ref, badStep, 'doctor');
  const end = (start?.meta.step ?? 0) + horizon;
  const plans: TrialPlan[] = sets.map((fixes) => {
    const { config, restart } = applyFixes(ref.config, fixes);
    const from = restart || !start ? null : start.path;
    const c: TrainConfig = { ...config, maxSteps: end, threads: 1, checkpointEvery: 0, histEvery: 0, evaluate: false, epochs: Math.max(config.epochs, 1000) };
    // No writer yet: the worker process that runs the trial claims it.
    const child = store.createRun({ name: `doctor ${ref.run.id}: ${fixes.join('+')}`, kind: 'train', parentId: ref.run.id, config: c, seed: c.seed, pid: null });
    store.addEvent(child.id, null, 'resume', { from: from ?? 'fresh init (same seed)', parent: ref.run.id, fixes, doctor: true });
    return { fixes, config: c, from, runId: child.id };
  });
  const workers = Math.max(1, Math.min(plans.length, num(p, 'workers') ?? availableParallelism()));
  process.stderr.write(`doctor ${ref.run.id}: ${plans.length} trials to step ${end} (${start ? `from step ${start.meta.step} or from the start` : 'from the start'}), ${workers} at a time\n`);
  if (await runAll(plans, workers, store.root, ref.run.id)) {
    // Trials never launched have no writer and no step: they go, rather than stay 'running'.
    for (const pl of plans) {
      const r = store.getRun(pl.runId);
      if (r?.status === 'running' && r.pid === null) {
        store.setStatus(pl.runId, 'interrupted', { error: 'doctor was stopped before this trial started' });
        store.discardUnstarted(pl.runId);
      }
    }
    process.stderr.write(`doctor ${ref.run.id}: stopped; the trials that ran are child runs of ${ref.run.id}\n`);
    return 130;
  }
  const rows = plans.map((pl) => toRow(outcome(store, pl)));
  const best = recommend(rows);
  const table = renderTable(rows, end, badStep);
  const rec = recommendation(best, horizon, end);
  process.stdout.write(`${table}\n${rec[l]}\n`);
  const payload = { horizon, endStep: end, from: start?.meta.step ?? 0, badStep, rows, trials: plans.map((pl) => pl.runId), recommendation: rec.en, recommendationZh: rec.zh, best: best?.fix ?? null };
  store.addEvent(ref.run.id, end, 'doctor', payload);
  writeFileAtomicSync(join(store.runDir(ref.run.id), 'doctor.json'), JSON.stringify(payload, null, 2));
  if (v && Array.isArray(v.fixes)) store.updateRun(ref.run.id, { verdict: { ...v, fixes: withEvidence(v.fixes, rows), doctor: { endStep: end, best: best?.fix ?? null } } });
  process.stdout.write(l === 'en' ? `trials are child runs of ${ref.run.id}; dashboard: #/compare?doctor=${ref.run.id}\n` : `每个试验都是 ${ref.run.id} 的子训练；仪表盘：#/compare?doctor=${ref.run.id}\n`);
  return best ? 0 : 1;
}

const f3 = d2lNum;

function renderTable(rows: readonly DoctorRow[], end: number, badStep: number | null): string {
  const head = `fix | held or first non-finite step | loss @${end} | acc @${end} | verdict`;
  const lines = rows.map((r) => `${r.fix} | ${r.held ? 'held' : r.firstNonFiniteStep !== null ? `NaN/Inf at step ${r.firstNonFiniteStep}` : 'no'} | ${f3(r.loss)} | ${f3(r.acc)} | ${r.verdict}`);
  return `\n${badStep !== null ? `original run: first non-finite at step ${badStep}\n` : ''}${[head, ...lines].join('\n')}\n`;
}

/** What a finished trial run left in the store. */
function outcome(store: Store, pl: TrialPlan): TrialOutcome {
  const r = store.getRun(pl.runId);
  const v = r?.verdict as { run?: string; numbers?: Record<string, number> } | null | undefined;
  const rep = r?.report as { step?: number } | null | undefined;
  return { fix: pl.fixes.join('+'), status: r?.status ?? 'failed', firstNonFiniteStep: rep?.step ?? null,
    loss: v?.numbers?.lossEnd ?? NaN, acc: v?.numbers?.accEnd ?? NaN, verdict: v?.run ?? r?.status ?? 'failed' };
}

/** Runs the trials, `workers` at a time; resolves true when a stop signal ended it early. */
function runAll(plans: TrialPlan[], workers: number, root: string, parent: string): Promise<boolean> {
  const { script, execArgv } = mainScript();
  let next = 0, running = 0, stopping = false;
  const children = new Set<ReturnType<typeof spawn>>();
  // SIGINT, SIGTERM or SIGHUP: no new trial; the running ones stop after their step.
  const offSignals = onStopSignals(() => {
    if (stopping) return;
    stopping = true;
    for (const ch of children) ch.kill('SIGTERM');
  });
  return new Promise((resolve) => {
    const launch = (): void => {
      if ((stopping || next >= plans.length) && running === 0) { offSignals(); resolve(stopping); return; }
      while (!stopping && running < workers && next < plans.length) {
        const pl = plans[next++];
        running++;
        const ch = spawn(process.execPath, [...execArgv, script, 'doctor', parent, '--trial', pl.runId, '--runs-dir', root],
          { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'passive' } });
        children.add(ch);
        let err = '';
        ch.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
        ch.on('close', (code) => {
          children.delete(ch);
          running--;
          process.stderr.write(`  ${pl.fixes.join('+')}: ${code === 0 ? 'done' : `worker exit ${code}${err ? `: ${err.trim().split('\n').pop()}` : ''}`}\n`);
          launch();
        });
      }
    };
    launch();
  });
}

/** One trial, in its own process: the child run prepared by the doctor. */
async function runTrial(store: Store, runId: string): Promise<number> {
  const run = store.getRun(runId);
  if (!run) throw new UsageError(`doctor --trial: no run '${runId}'`);
  const ev = store.getEvents(runId, 'resume')[0]?.payload as { from?: string; fixes?: string[] } | undefined;
  const from = ev?.from && ev.from.endsWith('.st') ? ev.from : null;
  const config = run.config as TrainConfig;
  store.claimRun(runId);
  const model = await modelFor(config); // a model file's network, from the path the run recorded
  const data = await loadData(config);
  const stop = { stop: false };
  const offSignals = stopAfterStep(stop, () => {});
  const trainer = new Trainer(config, { store, runId, data, model, resumeFrom: from, silent: true, stopSignal: stop });
  try {
    // The saved state carries the lr it was running at; an lr fix replaces it.
    if (from && ev?.fixes?.some((f) => f.startsWith('lr='))) trainer.opt.lr = config.lr;
    return (await trainer.run()).status === 'interrupted' ? 130 : 0;
  } catch (e) {
    store.setStatus(runId, 'failed', { error: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    offSignals();
    trainer.dispose();
  }
}
