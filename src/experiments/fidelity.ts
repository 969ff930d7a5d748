// The fidelity table at the top of RESULTS.md: d2l's own full recipes run here with
// `nanscope train`, each final line beside the lines d2l's English and Chinese builds printed
// (shared/REFERENCE.md). Rows are read from the stores the runs were recorded in (found by run
// name), never typed in; a run still going when the table is generated says how far it got.
import { existsSync, mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, DB_FILE, describeMachine, type Store, type RunRow } from '../store/index.js';
import { d2lLine } from '../diagnose/format.js';
import { markdownTable } from './table.js';
import { beginMark, endMark, generatedBlock, replaceGenerated } from './blocks.js';

type Line = [loss: number, train: number, test: number, imgPerS: number];

export interface FidelityRow {
  /** The run's --name. */
  name: string;
  what: string;
  flags: string;
  /** Planned training steps (all 60000 images: ceil(60000 / batch) x epochs). */
  steps: number;
  en: Line | null;
  zh: Line | null;
  /** d2l's line is for a different setting than this row's run (e.g. 10 epochs at 224 vs one epoch). */
  refNote?: string;
  spread?: string;
  /** Said beside the time and img/s. */
  note?: string;
  /** Rows that need a GPU here: never run, the reason shown. */
  notRun?: string;
  /** For a notRun row: the row whose measured training img/s gives "how long here" for this row's training images. */
  estimateFrom?: { row: string; images: number };
}

const steps = (batch: number, epochs: number) => Math.ceil(60000 / batch) * epochs;
// Every row runs with the default threads (all cores), one run at a time, as a learner would:
// the time and img/s are this machine's whole-machine figures.

export const FIDELITY_ROWS: readonly FidelityRow[] = [
  { name: 'lenet-e10', what: 'LeNet, sigmoid (d2l 6.6): lr 0.9, batch 256, 28x28, 10 epochs', flags: '--model lenet --epochs 10', steps: steps(256, 10),
    en: [0.455, 0.831, 0.789, 72322.5], zh: [0.469, 0.823, 0.779, 55296.6] },
  { name: 'lenet-bn-scratch-e10', what: 'LeNet + BN from scratch (d2l 8.5): lr 1.0, batch 256, 10 epochs', flags: '--model lenet --bn scratch --lr 1 --epochs 10', steps: steps(256, 10),
    en: [0.269, 0.900, 0.838, 34608.7], zh: [0.273, 0.899, 0.807, 32293.9], spread: 'BN-LeNet test acc across d2l builds: 0.52-0.89' },
  { name: 'lenet-bn-builtin-e10', what: 'LeNet + BN built-in (d2l 8.5): lr 1.0, batch 256, 10 epochs', flags: '--model lenet --bn builtin --lr 1 --epochs 10', steps: steps(256, 10),
    en: [0.278, 0.897, 0.836, 63564.3], zh: [0.267, 0.902, 0.708, 50597.3], spread: 'BN-LeNet test acc across d2l builds: 0.52-0.89' },
  { name: 'alexnet224-e1', what: 'AlexNet (d2l 8.1) exact recipe: lr 0.01, batch 128, 224x224, ONE epoch of 10', flags: '--model alexnet --epochs 1', steps: steps(128, 1),
    en: [0.327, 0.880, 0.882, 4171.2], zh: [0.331, 0.878, 0.883, 3941.8], refNote: 'd2l\'s line is after 10 epochs; this run is its first',
    spread: 'AlexNet across 36 en + 18 zh builds: loss 0.325-0.368, test acc 0.847-0.885, never NaN' },
  { name: 'alexnet96-e10', what: 'AlexNet at 96x96 (d2l\'s recipe otherwise): lr 0.01, batch 128, 10 epochs', flags: '--model alexnet --resize 96 --epochs 10', steps: steps(128, 10),
    en: [0.327, 0.880, 0.882, 4171.2], zh: [0.331, 0.878, 0.883, 3941.8], refNote: 'd2l\'s line is at 224x224',
    spread: 'AlexNet across 36 en + 18 zh builds: loss 0.325-0.368, test acc 0.847-0.885, never NaN' },
  { name: 'alexnet224-e10', what: 'AlexNet (d2l 8.1) exact recipe: 224x224, 10 epochs', flags: '--model alexnet', steps: steps(128, 10),
    en: [0.327, 0.880, 0.882, 4171.2], zh: [0.331, 0.878, 0.883, 3941.8], notRun: 'not run (no GPU)', estimateFrom: { row: 'alexnet224-e1', images: 60000 * 10 } },
];

const ref = (l: Line | null) => (l ? `${d2lLine(l[0], l[1], l[2])}, ${l[3]} img/s (GPU)` : '-');

/**
 * Opens a store for reading without changing it: read-only when its schema is this nanscope's;
 * a store on an older schema (e.g. written by a running older nanscope) is copied first and the
 * copy migrated, so a run still writing the original is never touched.
 */
export function openForReading(dir: string): Store {
  try {
    return openStore(dir, { readOnly: true });
  } catch (e) {
    if (!/has schema v\d+, this nanscope needs/.test((e as Error).message)) throw e;
    const tmp = mkdtempSync(join(tmpdir(), 'nanscope-fidelity-'));
    for (const suffix of ['', '-wal']) {
      const f = join(dir, DB_FILE + suffix);
      if (existsSync(f)) copyFileSync(f, join(tmp, DB_FILE + suffix));
    }
    return openStore(tmp);
  }
}

/** The newest run with this name across the stores. */
function findRun(stores: readonly Store[], name: string): { store: Store; run: RunRow } | null {
  for (const store of stores) {
    const run = store.listRuns().find((r) => r.name === name);
    if (run) return { store, run };
  }
  return null;
}

/** Training img/s over every recorded finite step of a run (a run stopped mid-epoch has steps but no epoch line). */
function trainImgPerS(store: Store, run: RunRow): number | null {
  const st = store.getSteps(run.id).filter((x) => x.timeMs !== null && x.imgPerS !== null && !x.nonfinite);
  const trainS = st.reduce((s, x) => s + x.timeMs! / 1000, 0);
  const images = st.reduce((s, x) => s + (x.imgPerS! * x.timeMs!) / 1000, 0);
  return trainS > 0 ? images / trainS : null;
}

/** A GPU row's "not run" text, with how long it would take here at the img/s its sibling row measured. */
function notRunText(stores: readonly Store[], row: FidelityRow): string {
  const from = row.estimateFrom ? findRun(stores, row.estimateFrom.row) : null;
  const ips = from ? trainImgPerS(from.store, from.run) : null;
  if (!ips || !row.estimateFrom) return row.notRun!;
  const hours = row.estimateFrom.images / ips / 3600;
  return `${row.notRun}: about ${hours.toFixed(0)} h of training on this machine at the ${ips.toFixed(0)} img/s the ${row.estimateFrom.row} row measured`;
}

function measured(store: Store, run: RunRow, row: FidelityRow): { line: string; time: string } {
  const epochs = store.getEpochs(run.id);
  const last = epochs[epochs.length - 1];
  const wall = ((run.finishedAt ?? run.updatedAt) - run.createdAt) / 1000;
  const rate = trainImgPerS(store, run);
  const ips = rate !== null ? `${rate.toFixed(0)} img/s (training)` : '-';
  const time = `${(wall / 60).toFixed(1)} min wall, ${ips}${row.note ? `; ${row.note}` : ''}`;
  const done = store.latestStep(run.id) ?? run.stepsDone;
  const c = run.config as { limitTrain?: number | null; epochs?: number } | null;
  // A run of the row's name that is not the row's recipe (fewer images or epochs) says so.
  const off = c?.limitTrain ? ` (on ${c.limitTrain} of 60000 training images: not d2l's recipe)` : '';
  if (run.status !== 'finished' || (!off && done < row.steps)) {
    const at = last ? `; last epoch end: ${d2lLine(last.loss, last.trainAcc, last.testAcc)}` : '';
    return { line: `not finished: ${done} of ${row.steps} steps when this table was generated (status ${run.status})${at}`, time };
  }
  return { line: last ? `${d2lLine(last.loss, last.trainAcc, last.testAcc)}${off}` : `finished without an epoch line${off}`, time };
}

export function fidelityTable(stores: readonly Store[]): { head: string[]; rows: string[][] } {
  const head = ['run (d2l recipe)', 'nanscope here', 'time, img/s here', 'd2l-en 0.17.5', 'd2l-zh 2.0.0', 'd2l spread / note', 'command'];
  const rows = FIDELITY_ROWS.map((row) => {
    const found = row.notRun ? null : findRun(stores, row.name);
    const m = found ? measured(found.store, found.run, row) : { line: row.notRun ? notRunText(stores, row) : 'not run yet', time: '-' };
    const note = [row.refNote, row.spread].filter(Boolean).join('; ') || '-';
    return [row.what, m.line, m.time, ref(row.en), ref(row.zh), note, `\`nanscope train ${row.flags} --name ${row.name}\``];
  });
  return { head, rows };
}

export const FIDELITY_BEGIN = beginMark('fidelity');
export const FIDELITY_END = endMark('fidelity');

/** The machines the rows' runs recorded (store migration 6), or what is missing. */
function machinesOf(stores: readonly Store[]): string {
  const seen = new Set<string>();
  for (const row of FIDELITY_ROWS) {
    const f = row.notRun ? null : findRun(stores, row.name);
    if (f) seen.add(f.run.machine ? describeMachine(f.run.machine) : 'not recorded (runs stored before store migration 6)');
  }
  return seen.size ? [...seen].join('; ') : 'no run recorded yet';
}

export function fidelitySection(stores: readonly Store[], o: { command: string; date: Date; note?: string }): string {
  return [
    '## Fidelity: d2l\'s own recipes, run here, beside d2l\'s printed lines',
    '',
    `Command: \`${o.command}\`  `,
    `Generated: ${o.date.toISOString().replace('T', ' ').slice(0, 16)} UTC from the runs recorded in ${stores.map((s) => `\`${s.root}\``).join(', ')}; machine: ${machinesOf(stores)}.`,
    '',
    markdownTable(fidelityTable(stores)),
    '',
    ...(o.note ? [`Note: ${o.note}`, ''] : []),
    'd2l\'s lines are what its notebook builds printed on a GPU (no seed set, so each build differs; the spread column gives the range across builds). Loss / train acc are over the last epoch, test acc on all 10000 test images, as d2l\'s train_ch6 prints them.',
  ].join('\n');
}

/** Puts the section at the top of the results file (after its header), replacing an older one. */
export function placeFidelity(doc: string, section: string): string {
  const replaced = replaceGenerated(doc, 'fidelity', section);
  if (replaced !== null) return replaced;
  const block = generatedBlock('fidelity', section);
  const firstBlock = [doc.indexOf('\n<!-- BEGIN'), doc.indexOf('\n## ')].filter((k) => k >= 0);
  const at = firstBlock.length ? Math.min(...firstBlock) + 1 : doc.length;
  const before = doc.slice(0, at);
  return `${before}${before.endsWith('\n\n') ? '' : '\n'}${block}\n\n${doc.slice(at)}`;
}
