// nanscope resume RUN [--fix k=v ...]: continue a run from its saved state.
//  - no fix: the same run continues from its last checkpoint (after a crash, kill or Ctrl-C);
//  - lr=, clip=, warmup=: a child run continues from the state before the bad step with the
//    new setting, over the same steps, and says whether the fix held;
//  - bn=, init=, activation=, scale-pixels: the architecture or initialisation changes, so no
//    saved weights fit: a child run starts again from the original seed (same data order,
//    same steps) with the fix, and says whether it got past the step where the original broke.
import { parseArgs, helpText, str, num, list, bool, UsageError, type Flags } from './args.js';
import { RUNS_DIR_FLAG, LANG_FLAG, openRuns, loadData, lang, printVerdict } from './common.js';
import { findRun, stateBefore } from './runref.js';
import { runLocation, RUN_ARG_HELP } from './run-location.js';
import { Trainer, EXIT_DIVERGED } from '../train/trainer.js';
import { validate, type TrainConfig } from '../train/config.js';

const FLAGS: Flags = {
  fix: { type: 'list', help: 'lr=X | clip=X | warmup=N | bn=scratch|builtin | init=xavier|default|kaiming|normal:STD | activation=relu|sigmoid | scale-pixels (repeatable)' },
  'max-steps': { type: 'int', help: 'stop after this many steps in total (default: the original plan)' },
  epochs: { type: 'int', help: 'train to this many epochs in total' },
  'runs-dir': RUNS_DIR_FLAG,
  lang: LANG_FLAG,
  quiet: { type: 'bool', help: 'no progress output' },
  help: { type: 'bool', help: 'show this help' },
};

const ARCH = new Set(['bn', 'init', 'activation', 'scale-pixels']);

export function applyFixes(c: TrainConfig, fixes: string[]): { config: TrainConfig; restart: boolean } {
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
  try {
    return { config: validate(n), restart };
  } catch (e) {
    throw new UsageError(`resume: --fix ${fixes.join(' ')}: ${(e as Error).message}`);
  }
}

export async function resumeCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, FLAGS, 'resume');
  if (bool(p, 'help')) { process.stdout.write(helpText('resume', 'RUN [--fix k=v ...]', FLAGS, RUN_ARG_HELP)); return 0; }
  const l = lang(str(p, 'lang'));
  const at = runLocation(p.positional[0], str(p, 'runs-dir')!, 'resume');
  const store = openRuns(at.root);
  try {
    const ref = findRun(store, at.id, 'resume');
    const fixes = list(p, 'fix');
    const { config: fixed, restart } = applyFixes(ref.config, fixes);
    const maxSteps = num(p, 'max-steps');
    const epochs = num(p, 'epochs');
    const config: TrainConfig = { ...fixed, maxSteps: maxSteps ?? fixed.maxSteps, epochs: epochs ?? fixed.epochs };
    const badStep = ref.report?.step ?? null;
    // After a divergence continue from the state before the bad step; otherwise the newest.
    const from = restart ? null : stateBefore(ref, badStep, 'resume').path;
    const data = await loadData(config);
    let runId = ref.run.id;
    if (fixes.length || ref.run.status === 'diverged') {
      const child = store.createRun({ name: `${ref.run.name} + ${fixes.join(',') || 'resume'}`, kind: 'train', parentId: ref.run.id, config, seed: config.seed });
      runId = child.id;
    } else {
      store.setStatus(runId, 'running');
      store.updateRun(runId, { config });
    }
    store.addEvent(runId, null, 'resume', { from: from ?? 'fresh init (architecture/init fix)', parent: ref.run.id, fixes });
    process.stderr.write(`run ${runId}: ${from ? `continuing from ${from}` : `restarting from seed ${config.seed} with ${fixes.join(', ')}`}\n`);
    const stop = { stop: false };
    const onSig = () => { stop.stop = true; };
    process.on('SIGINT', onSig);
    const trainer = new Trainer(config, { store, runId, data, resumeFrom: from, stopSignal: stop, quiet: bool(p, 'quiet') });
    try {
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
    } finally {
      process.off('SIGINT', onSig);
      trainer.dispose();
    }
  } finally {
    store.close();
  }
}
