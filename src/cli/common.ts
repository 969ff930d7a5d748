// Shared by the commands: opening the store, loading the data a config asks for, and
// printing a verdict in the chosen language.
import { resolve, dirname, basename } from 'node:path';
import { openStore, type Store } from '../store/index.js';
import { loadFashionMnist, type FashionMnist } from '../data/index.js';
import type { TrainConfig } from '../train/config.js';
import { loadModelFile, type ModelFactory } from '../models/index.js';
import type { Verdict, NonFiniteReport, Lang } from '../diagnose/index.js';
import { UsageError } from './args.js';

export const RUNS_DIR_FLAG = { type: 'string' as const, help: 'runs folder (database + one folder per run)', default: 'runs' };
export const LANG_FLAG = { type: 'string' as const, help: 'en | zh: language of explanations', default: 'en' };

/** The store under `dir`; readOnly: for commands that only read, a read-only folder is opened read-only. */
export function openRuns(dir: string, opts: { readOnly?: boolean } = {}): Store {
  const store = openStore(resolve(dir), { readOnlyFallback: opts.readOnly });
  if (store.readonly) process.stderr.write(`note: ${store.root} is read-only for this user; opened it read-only\n`);
  return store;
}

export function lang(v: string | undefined): Lang {
  if (v !== 'en' && v !== 'zh') throw new UsageError(`--lang must be en or zh, got '${v}'`);
  return v;
}

/** --out runs/NAME names the runs folder and the run id at once. */
export function splitOut(out: string): { root: string; id: string } {
  return { root: dirname(resolve(out)), id: basename(resolve(out)) };
}

export async function loadData(c: TrainConfig): Promise<FashionMnist> {
  return loadFashionMnist({
    dataDir: c.dataDir ?? undefined, limitTrain: c.limitTrain ?? undefined, limitTest: c.limitTest ?? undefined,
    log: (s) => process.stderr.write(`${s}\n`),
  });
}

/**
 * The network a run's config names, for the Trainer: undefined for a zoo model (the Trainer
 * builds it), the file's model function for a model file (imported again from its path).
 */
export async function modelFor(c: TrainConfig): Promise<ModelFactory | undefined> {
  if (c.model === 'file') return loadModelFile(c.modelFile!);
  if (c.model === 'code') {
    throw new UsageError(`this run trained a Module passed to the Trainer in code; only that code can rebuild it (new Trainer(config, { model, ... }))`);
  }
  return undefined;
}

export function printVerdict(v: Verdict, l: Lang, out: NodeJS.WriteStream = process.stdout): void {
  const title = l === 'en' ? 'verdict' : '诊断';
  out.write(`\n${title}: ${v.run}${v.diverged ? (l === 'en' ? ' (diverged)' : '（已发散）') : ''}\n${v.text[l]}\n`);
  const bad = v.layers.filter((x) => x.verdict !== 'healthy');
  for (const x of bad) out.write(`  ${x.alias} (layer ${x.name}, ${x.kind}): ${x.verdict} - ${x.note}\n`);
  if (v.fixes.length) {
    out.write(l === 'en' ? 'fixes, best first:\n' : '修复建议（按优先级）：\n');
    v.fixes.forEach((f, i) => out.write(`  ${i + 1}. [${f.fix}] ${f[l]}${f.evidence ? ` (${f.evidence[l]})` : ''}\n`));
  }
}

export function printReport(r: NonFiniteReport, l: Lang, out: NodeJS.WriteStream = process.stdout): void {
  out.write(`${r.explanation[l]}\n`);
}
