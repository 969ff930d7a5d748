// The outcome table an experiment prints (plain text) and writes to docs/RESULTS.md (markdown).
import { d2lNum, expShort } from '../diagnose/format.js';
import type { CellResult, Experiment } from './types.js';

export const f3 = d2lNum;
export const sci = (v: number | null | undefined): string => {
  if (v === null || v === undefined) return '-';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e4 || a < 1e-2) ? expShort(v, 2) : v.toPrecision(3);
};

export interface Table { head: string[]; rows: string[][] }

export function resultTable(exp: Experiment, results: readonly CellResult[]): Table {
  if (exp.table) return exp.table(results);
  const head = ['arm', 'seed', 'non-finite?', 'step', 'epoch', 'first layer (pass)', 'steps run', 'max loss', 'loss', 'train acc', 'test acc', 'epochs done: loss / train / test (last)'];
  const extra = exp.columns ?? [];
  const rows = results.map((r) => [
    r.arm, String(r.seed), r.nanStep !== null ? 'yes' : r.status === 'interrupted' ? 'stopped' : 'no',
    r.nanStep === null ? '-' : String(r.nanStep), r.nanEpoch === null ? '-' : String(r.nanEpoch + 1),
    r.nanLayer === null ? '-' : `${r.nanLayer} (${r.nanPass})`, `${r.steps}/${r.stepsPerEpoch * r.config.epochs > 0 ? Math.min(r.config.maxSteps ?? Infinity, r.stepsPerEpoch * r.config.epochs) : 0}`,
    sci(r.maxLoss === -Infinity ? null : r.maxLoss),
    r.nanStep !== null ? 'nan' : f3(r.loss), r.nanStep !== null ? '-' : f3(r.trainAcc), r.nanStep !== null ? '-' : f3(r.testAcc),
    lastEpoch(r),
    ...extra.map((c) => c.cell(r)),
  ]);
  return { head: [...head, ...extra.map((c) => c.head)], rows };
}

/** What d2l printed at the last epoch end before the run stopped (for a NaN run: the epochs that looked normal). */
function lastEpoch(r: CellResult): string {
  const e = r.epochs[r.epochs.length - 1];
  return e ? `${r.epochs.length}: ${f3(e.loss)} / ${f3(e.trainAcc)} / ${f3(e.testAcc)}` : '0';
}

export function textTable(t: Table): string {
  const w = t.head.map((h, i) => Math.max(h.length, ...t.rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(t.head), w.map((n) => '-'.repeat(n)).join('  '), ...t.rows.map(line)].join('\n');
}

export function markdownTable(t: Table): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${t.head.map(esc).join(' | ')} |`, `|${t.head.map((_, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}
