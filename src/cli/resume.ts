// nanscope resume RUN [--fix k=v ...]: continue a run from its saved state.
//  - no fix: the same run continues from its last checkpoint (after a crash, kill or Ctrl-C);
//  - lr=, clip=, warmup=: a child run continues from the state before the bad step with the
//    new setting, over the same steps, and says whether the fix held;
//  - bn=, init=, activation=, scale-pixels: the architecture or initialisation changes, so no
//    saved weights fit: a child run starts again from the original seed (same data order,
//    same steps) with the fix, and says whether it got past the step where the original broke.
import { parseArgs, helpText, str, num, list, bool, UsageError, type Flags } from './args.js';
import { RUNS_DIR_FLAG, LANG_FLAG, openRuns, loadData, lang, printVerdict, modelFor } from './common.js';
import { findRun, stateBefore } from './runref.js';
import { stopAfterStep } from './signals.js';
import { TRAIN_FLAGS } from './train-flags.js';
import { runLocation, RUN_ARG_HELP } from './run-location.js';
import { Trainer, EXIT_DIVERGED } from '../train/trainer.js';
import { validate, type TrainConfig } from '../train/config.js';
import { checkPosition, type CheckpointMeta } from '../train/checkpoint.js';
import { batchCount } from '../data/index.js';
import { ACTIVATIONS, BN_MODES } from '../models/index.js';

const FLAGS: Flags = {
  fix: { type: 'list', help: `lr=X | clip=X | warmup=N | bn=${BN_MODES.join('|')} | init=xavier|default|kaiming|normal:STD | activation=${ACTIVATIONS.join('|')} | scale-pixels (repeatable)` },
  'max-steps': { type: 'int', help: 'stop after this many steps in total (default: the original plan)' },
  epochs: { type: 'int', help: 'train to this many epochs in total' },
  // On another machine the recorded thread count may not fit its cores (validate caps it).
  threads: { ...TRAIN_FLAGS.threads, help: 'intra-op threads from here on (default: as recorded)' },
  'runs-dir': RUNS_DIR_FLAG,
  lang: LANG_FLAG,
  quiet: { type: 'bool', help: 'no progress output' },
  help: { type: 'bool', help: 'show this help' },
};

const ARCH = new Set(['bn', 'init', 'activation', 'scale-pixels']);

export function applyFixes(c: TrainConfig, fixes: string[], plan: { maxSteps?: number; epochs?: number; threads?: number } = {}): { config: TrainConfig; restart: boolean } {
  const n: TrainConfig = { ...c };
  let restart = false;
  for (const f of fixes) {
    const [k, v] = f.includes('=') ? [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)] : [f, ''];
    const needNum = (): number => { const x = Number(v); if (v === '' || !Number.isFinite(x)) throw new UsageError(`resume: --fix ${f}: ${k} needs a number`); return x; };
    if (ARCH.has(k)) restart = true;
    switch (k) {
      case 'lr': n.lr = needNum(); break;
      case 'clip': n.clip = needNum(); break;
      case 'warmup': n.warmup = needNum(); break;
      case 'bn': n.bn = v as TrainConfig['bn']; break;
      case 'init': n.init = v; break;
      case 'activation': n.activation = v as TrainConfig['activation']; break;
      case 'scale-pixels': n.scalePixels = true; break;
      default: throw new UsageError(`resume: unknown fix '${f}' (lr=, clip=, warmup=, bn=, init=, activation=, scale-pixels)`);
    }
  }
  if (plan.maxSteps !== undefined) n.maxSteps = plan.maxSteps;
  if (plan.epochs !== undefined) n.epochs = plan.epochs;
  if (plan.threads !== undefined) n.threads = plan.threads;
  // The whole new config is checked before anything is written: a refused resume changes nothing.
  try {
    return { config: validate(n), restart };
  } catch (e) {
    const given = [...fixes.map((f) => `--fix ${f}`), ...(plan.maxSteps !== undefined ? [`--max-steps ${plan.maxSteps}`] : []),
      ...(plan.epochs !== undefined ? [`--epochs ${plan.epochs}`] : []), ...(plan.threads !== undefined ? [`--threads ${plan.threads}`] : [])];
    throw new UsageError(`resume: ${given.join(' ') || 'the stored config'}: ${(e as Error).message}`);
  }
}

/**
 * Whether a set of fixes can be applied to this run at all: the verdict ranks fixes by
 * mechanism, but a net without a knob (BN built into ResNet, a model file's own layers) cannot take it.
 */
export function fixFits(c: TrainConfig, fixes: string[]): boolean {
  try { applyFixes(c, fixes); return true; } catch { return false; }
}

/** True when a saved state already reached the end the config asks for. */
function nothingLeft(meta: CheckpointMeta, c: TrainConfig): boolean {
  return meta.next.epoch >= c.epochs || (c.maxSteps !== null && meta.step >= c.maxSteps);
}

export async function resumeCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, FLAGS, 'resume');
  if (bool(p, 'help')) { process.stdout.write(helpText('resume', 'RUN [--fix k=v ...]', FLAGS, RUN_ARG_HELP)); return 0; }
  const l = lang(str(p, 'lang'));
  const at = runLocation(p.positional[0], str(p, 'runs-dir')!, 'resume');
  const store = openRuns(at.root);
  try {
    // Everything that can be refused is checked before the store is written.
    const ref = findRun(store, at.id, 'resume');
    const fixes = list(p, 'fix');
    const { config, restart } = applyFixes(ref.config, fixes, { maxSteps: num(p, 'max-steps'), epochs: num(p, 'epochs'), threads: num(p, 'threads') });
    store.refuseLiveWriter(`run ${ref.run.id}`, ref.run); // one writer per run: a live one is never disturbed
    const badStep = ref.report?.step ?? null;
    // After a divergence continue from the state before the bad step; otherwise the newest.
    const state = restart ? null : stateBefore(ref, badStep, 'resume');
    if (state && nothingLeft(state.meta, config)) {
      process.stderr.write(`resume: nothing to do: ${ref.run.id} already reached step ${state.meta.step} (epoch ${state.meta.next.epoch} of ${config.epochs}` +
        `${config.maxSteps !== null ? `, --max-steps ${config.maxSteps}` : ''}); give a larger --epochs or --max-steps to train further. Nothing was changed.\n`);
      return 0;
    }
    const from = state?.path ?? null;
    const model = await modelFor(config);
    const data = await loadData(config);
    if (state) checkPosition(state.meta, batchCount(data.train.n, config.batchSize), state.path); // a damaged step count is refused here, before any write
    const child = fixes.length > 0 || ref.run.status === 'diverged';
    // A new child run, or the run itself claimed as its one writer (refused if another process writes it).
    const runId = child
      ? store.createRun({ name: `${ref.run.name} + ${fixes.join(',') || 'resume'}`, kind: 'train', parentId: ref.run.id, config, seed: config.seed }).id
      : ref.run.id;
    const before = child ? null : store.claimRun(runId, { config, error: null });
    const stop = { stop: false };
    const offSignals = stopAfterStep(stop, (s) => process.stderr.write(s));
    let trainer: Trainer | null = null;
    try {
      store.addEvent(runId, null, 'resume', { from: from ?? 'fresh init (architecture/init fix)', parent: ref.run.id, fixes });
      process.stderr.write(`run ${runId}: ${from ? `continuing from ${from}` : `restarting from seed ${config.seed} with ${fixes.join(', ')}`}\n`);
      trainer = new Trainer(config, { store, runId, data, model, resumeFrom: from, stopSignal: stop, quiet: bool(p, 'quiet') });
      // The saved state carries the lr it was running at; an lr fix replaces it.
      if (from && fixes.some((f) => f.startsWith('lr='))) trainer.opt.lr = config.lr;
      const r = await trainer.run();
      printVerdict(r.verdict, l);
      if (badStep !== null) {
        const held = r.status !== 'diverged';
        const msg = held
          ? { en: `fix held: no NaN/Inf through step ${r.steps} (the original run broke at step ${badStep}).`, zh: `修复有效：直到第 ${r.steps} 步都没有出现 NaN/Inf（原来的训练在第 ${badStep} 步出错）。` }
          : { en: `fix did not hold: non-finite again at step ${r.report?.step} (originally step ${badStep}).`, zh: `修复无效：在第 ${r.report?.step} 步再次出现非有限值（原来是第 ${badStep} 步）。` };
        process.stdout.write(`\n${msg[l]}\n`);
        store.addEvent(runId, r.steps, 'note', { fixHeld: held, originalBadStep: badStep, fixes });
      }
      return r.status === 'diverged' ? EXIT_DIVERGED : r.exitCode;
    } catch (e) {
      // The run says it failed and why; a resumed run keeps the config it had before this attempt.
      const error = `resume failed: ${e instanceof Error ? e.message : String(e)}`;
      store.setStatus(runId, 'failed', before ? { error, config: before.config } : { error });
      store.addEvent(runId, null, 'note', { resumeFailed: error, statusBefore: before?.status ?? null });
      throw e;
    } finally {
      offSignals();
      trainer?.dispose();
    }
  } finally {
    store.close();
  }
}
