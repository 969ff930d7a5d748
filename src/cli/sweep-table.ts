// The outcome table a sweep prints at its end, one row per cell, whichever runner ran the cells.
import { d2lNum } from '../diagnose/format.js';
import type { RunRow } from '../store/index.js';
import { textTable } from './text-table.js';

export const DONE: ReadonlySet<string> = new Set(['finished', 'diverged']);

const f3 = d2lNum;

export function outcomeTable<C extends { key: string }>(cells: readonly C[], runs: Map<string, RunRow | undefined>): string {
  const head = ['cell', 'status', 'diverged', 'nan step', 'nan epoch', 'loss', 'train acc', 'test acc', 'first layer', 'host', 'run'];
  const rows = cells.map((c) => {
    const r = runs.get(c.key);
    if (!r) return [c.key, 'not run', '-', '-', '-', '-', '-', '-', '-', '-', '-'];
    const rep = r.report as { alias?: string; pass?: string } | null;
    const div = r.firstNanStep !== null;
    return [c.key, r.status, div ? 'yes' : DONE.has(r.status) ? 'no' : '-', div ? String(r.firstNanStep) : '-',
      div && r.firstNanEpoch !== null ? String(r.firstNanEpoch + 1) : '-', div ? 'nan' : f3(r.finalLoss), f3(r.finalTrainAcc), f3(r.finalTestAcc),
      rep?.alias ? `${rep.alias} (${rep.pass})` : '-', r.host ?? '-', r.id];
  });
  return textTable(head, rows, head.map((_, i) => (i === 0 || i === 1 || i >= 8 ? 'left' : 'right')), { rule: true });
}
