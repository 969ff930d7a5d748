// nanscope replay RUN [--step N]: restore the saved state before a step, re-execute that step
// deterministically with every layer and op checked, and print the locator's report. For the
// step that went bad it must name the same layer and op as the original run did.
import { join } from 'node:path';
import { readTensors } from '../torch/index.js';
import { Trainer } from '../train/trainer.js';
import { writeFileAtomicSync } from '../store/index.js';
import { sameOrigin } from '../diagnose/index.js';
import { parseArgs, helpText, str, num, bool, UsageError, type Flags } from './args.js';
import { RUNS_DIR_FLAG, LANG_FLAG, openRuns, loadData, lang, modelFor } from './common.js';
import { findRun, stateBefore } from './runref.js';
import { runLocation, RUN_ARG_HELP } from './run-location.js';

const FLAGS: Flags = {
  step: { type: 'int', help: 'the step to re-execute (default: the first non-finite step)', min: 1 },
  'runs-dir': RUNS_DIR_FLAG,
  lang: LANG_FLAG,
  json: { type: 'bool', help: 'print the report as JSON' },
  help: { type: 'bool', help: 'show this help' },
};

export async function replayCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, FLAGS, 'replay');
  if (bool(p, 'help')) { process.stdout.write(helpText('replay', 'RUN [--step N]', FLAGS, RUN_ARG_HELP)); return 0; }
  const l = lang(str(p, 'lang'));
  const at = runLocation(p.positional[0], str(p, 'runs-dir')!, 'replay');
  const store = openRuns(at.root);
  try {
    const ref = findRun(store, at.id, 'replay');
    const target = num(p, 'step') ?? ref.report?.step;
    if (target === undefined) throw new UsageError(`replay: run ${ref.run.id} never went non-finite; pass --step N to re-execute a step`);
    if (target > ref.run.stepsDone) throw new UsageError(`replay: --step ${target} is beyond the last step ${ref.run.id} ran (${ref.run.stepsDone})`);
    const from = stateBefore(ref, target, 'replay');
    const model = await modelFor(ref.config);
    const data = await loadData(ref.config);
    const rep = store.createRun({ name: `replay of ${ref.run.id} step ${target}`, kind: 'replay', parentId: ref.run.id, config: ref.config, seed: ref.config.seed });
    const trainer = new Trainer({ ...ref.config, maxSteps: target - 1, evaluate: false, checkpointEvery: 0 },
      { store, runId: rep.id, data, model, resumeFrom: from.path, silent: true, files: false });
    try {
      await trainer.run(); // re-runs the steps between the saved state and the target, if any
      const { report, batch } = trainer.locateNext();
      if (ref.report && target === ref.report.step) checkBatch(join(ref.dir, 'bad-batch.st'), batch.pixels);
      store.updateRun(rep.id, { report });
      // The replay's one file: its report (the re-run steps leave no checkpoint or verdict).
      writeFileAtomicSync(join(store.runDir(rep.id), 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
      if (bool(p, 'json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      if (!report) {
        process.stdout.write(`step ${target}: every loss, activation and gradient is finite.\n`);
        return ref.report?.step === target ? 1 : 0;
      }
      process.stdout.write(`${report.explanation[l]}\n`);
      if (ref.report && ref.report.step === target) {
        const same = sameOrigin(report, ref.report);
        process.stdout.write(same ? `reproduced: same pass, layer and op as the original run (${report.pass}, ${report.alias}, ${report.op}).\n`
          : `NOT reproduced: the original run located ${ref.report.pass} ${ref.report.alias} ${ref.report.op}.\n`);
        return same ? 0 : 1;
      }
      return 0;
    } finally {
      trainer.dispose();
    }
  } finally {
    store.close();
  }
}

/** The regenerated batch must be the one the run saved: same data order, same resize. */
function checkBatch(path: string, pixels: Uint8Array): void {
  const { tensors } = readTensors(path);
  try {
    const saved = tensors.get('pixels')!.data() as Uint8Array;
    if (saved.length !== pixels.length || saved.some((v, i) => v !== pixels[i])) {
      throw new Error(`replay: the regenerated batch differs from ${path}: the data or loader changed since the run`);
    }
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
