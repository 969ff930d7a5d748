// Compare runs: overlaid loss and accuracy curves, and a sweep's outcome
// table (one row per grid cell, one column per varying config key).

import { LineChart, type LineSeries } from '../charts/line.js';
import { seriesColor } from '../charts/colors.js';
import { clear, h, panel } from '../dom.js';
import { d2lNum, pct, short } from '../format.js';
import type { EpochRow, RunSummary, Source, StepsResponse, SweepListItem, SweepResponse } from '../source.js';
import { asVerdict, statusBadge, verdictBadge } from '../verdict.js';
import { followBoard, renderBoard } from './sweep-board.js';

const MAX_RUNS = 20;

interface DoctorRowView { fix: string; held: boolean; firstNonFiniteStep: number | null; loss: number | null; acc: number | null; verdict: string; cost: number }
interface DoctorTable { rows: DoctorRowView[]; trials: string[]; endStep: number | null; recommendation: string; best: string | null }

/** A stored doctor payload, read defensively (older or partial payloads show what they have). */
function asDoctor(v: unknown): DoctorTable | null {
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  if (!Array.isArray(o.rows)) return null;
  const n = (x: unknown): number | null => (typeof x === 'number' ? x : null);
  const rows = o.rows.filter((r): r is Record<string, unknown> => !!r && typeof r === 'object').map((r) => ({
    fix: String(r.fix ?? '?'), held: r.held === true, firstNonFiniteStep: n(r.firstNonFiniteStep), loss: n(r.loss), acc: n(r.acc),
    verdict: String(r.verdict ?? ''), cost: n(r.cost) ?? 0,
  }));
  const trials = Array.isArray(o.trials) ? o.trials.map(String) : [];
  return { rows, trials, endStep: n(o.endStep), recommendation: typeof o.recommendation === 'string' ? o.recommendation : '', best: typeof o.best === 'string' ? o.best : null };
}

function renderDoctor(runId: string, d: DoctorTable): HTMLElement {
  const [sec, body] = panel(`Doctor: fixes tried on ${runId}`, 'doctor');
  body.append(
    h('p', { class: 'doctor-rec' }, d.recommendation),
    h('table', { class: 'grid', id: 'doctor-table' },
      h('thead', {}, h('tr', {}, ['fix', 'held or first non-finite step', `loss @${d.endStep ?? '?'}`, `acc @${d.endStep ?? '?'}`, 'verdict'].map((t) => h('th', {}, t)))),
      h('tbody', {}, d.rows.map((r, i) => h('tr', { class: `${r.held ? 'held' : 'had-nan'}${r.fix === d.best ? ' best' : ''}`, 'data-fix': r.fix },
        h('td', {}, d.trials[i] ? h('a', { href: `#/run/${encodeURIComponent(d.trials[i])}` }, r.fix) : r.fix),
        h('td', {}, r.held ? 'held' : r.firstNonFiniteStep !== null ? `NaN/Inf at step ${r.firstNonFiniteStep}` : 'no'),
        h('td', { class: 'num' }, d2lNum(r.loss)),
        h('td', { class: 'num' }, pct(r.acc)),
        h('td', {}, verdictBadge({ run: r.verdict })),
      )))),
  );
  return sec;
}

function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, value);
  }
  return out;
}

function varying(runs: RunSummary[]): string[] {
  const flat = runs.map((r) => flatten(r.config));
  const keys = new Set<string>();
  flat.forEach((m) => m.forEach((_, k) => keys.add(k)));
  return [...keys].filter((k) => new Set(flat.map((m) => JSON.stringify(m.get(k)) ?? '<unset>')).size > 1).sort();
}

/** Merge several runs' (x, y) onto one x axis; absent samples are `undefined` so lines span them. */
function merge(xs: number[][], ys: (number | null)[][]): { x: number[]; cols: (number | null | undefined)[][] } {
  const all = [...new Set(xs.flat())].sort((a, b) => a - b);
  const index = new Map(all.map((v, i) => [v, i]));
  const cols = xs.map((x, r) => {
    const col = new Array<number | null | undefined>(all.length).fill(undefined);
    x.forEach((v, i) => {
      col[index.get(v) as number] = ys[r][i];
    });
    return col;
  });
  return { x: all, cols };
}

export async function comparePage(root: HTMLElement, src: Source, params: URLSearchParams): Promise<{ destroy(): void }> {
  clear(root);
  root.dataset.page = 'compare';
  const cleanups: (() => void)[] = [];
  let sweepId = params.get('sweep') ?? '';
  const chosen = new Set((params.get('runs') ?? '').split(',').filter(Boolean));
  let allRuns: RunSummary[] = [];
  let sweeps: SweepListItem[] = [];
  [allRuns, sweeps] = await Promise.all([src.runs(), src.sweeps().catch(() => [] as SweepListItem[])]);
  let sweep: SweepResponse | null = null;
  if (sweepId) {
    try {
      sweep = await src.sweep(sweepId);
      if (!chosen.size) for (const c of sweep.cells.slice(0, MAX_RUNS)) chosen.add(c.id);
    } catch (err) {
      root.append(h('p', { class: 'error' }, `Sweep ${sweepId}: ${(err as Error).message}`));
      sweepId = '';
    }
  }

  // nanscope doctor RUN stores its table as a 'doctor' event on RUN: show it and overlay the trials.
  const doctorId = params.get('doctor') ?? '';
  let doctor: DoctorTable | null = null;
  if (doctorId) {
    try {
      const ev = (await src.events(doctorId)).filter((e) => e.kind === 'doctor').pop();
      doctor = asDoctor(ev?.payload);
      if (!doctor) root.append(h('p', { class: 'error' }, `Run ${doctorId} has no doctor table (run nanscope doctor ${doctorId}).`));
      else if (!chosen.size) for (const id of [doctorId, ...doctor.trials]) chosen.add(id);
    } catch (err) {
      root.append(h('p', { class: 'error' }, `Run ${doctorId}: ${(err as Error).message}`));
    }
  }

  root.append(h('h1', {}, 'Compare runs'));
  if (doctor) root.append(renderDoctor(doctorId, doctor));
  const sweepSel = h('select', { id: 'compare-sweep' }, h('option', { value: '' }, '— no sweep —'));
  for (const s of sweeps) sweepSel.append(h('option', { value: s.id, selected: s.id === sweepId }, `${s.name ?? s.id} (${s.cells} cells, ${s.status})`));
  const logToggle = h('input', { type: 'checkbox', id: 'compare-log', checked: true });
  root.append(h('div', { class: 'controls' }, h('label', {}, 'sweep ', sweepSel), h('label', {}, logToggle, ' log-scale loss')));

  // The cells' states (live while any is queued or running), then the outcome table.
  const [boardSec, boardBody] = panel('Cells', 'sweep-cells');
  const [sweepSec, sweepBody] = panel('Sweep outcome', 'sweep-outcome');
  if (sweep) root.append(boardSec, sweepSec);
  const renderSweep = (): void => {
    if (!sweep) return;
    const keys = sweep.varying;
    const byVerdict = new Map<string, number>();
    for (const c of sweep.cells) {
      const k = asVerdict(c.verdict)?.run ?? c.status;
      byVerdict.set(k, (byVerdict.get(k) ?? 0) + 1);
    }
    sweepBody.replaceChildren(
      h('p', {}, [...byVerdict].map(([k, n]) => `${n} ${k}`).join(' · ') || 'no cells yet'),
      h(
        'table',
        { class: 'grid', id: 'sweep-table' },
        h(
          'thead',
          {},
          h('tr', {}, h('th', {}, 'cell'), keys.map((k) => h('th', {}, k)), ['status', 'verdict', 'first NaN', 'train acc', 'test acc', 'loss'].map((t) => h('th', {}, t))),
        ),
        h(
          'tbody',
          {},
          sweep.cells.map((c) => {
            const flat = flatten(c.config);
            return h(
              'tr',
              { 'data-run': c.id, class: c.firstNanStep !== null ? 'had-nan' : '' },
              h('td', {}, h('a', { href: `#/run/${encodeURIComponent(c.id)}` }, c.cellKey ?? c.id)),
              keys.map((k) => h('td', {}, short(flat.get(k)))),
              h('td', {}, statusBadge(c.status)),
              h('td', {}, verdictBadge(c.verdict)),
              h('td', { class: 'num' }, c.firstNanStep ?? '–'),
              h('td', { class: 'num' }, pct(c.finalTrainAcc)),
              h('td', { class: 'num' }, pct(c.finalTestAcc)),
              h('td', { class: 'num' }, d2lNum(c.finalLoss)),
            );
          }),
        ),
      ),
    );
  };
  renderSweep();
  if (sweep) {
    renderBoard(boardBody, sweep);
    cleanups.push(followBoard(src, sweepId, sweep, (s) => {
      sweep = s;
      renderBoard(boardBody, s);
      renderSweep();
    }));
  }

  // Run picker.
  const [pickSec, pickBody] = panel('Runs', 'compare-pick');
  const pool = sweep ? sweep.cells : allRuns;
  const [chartSec, chartBody] = panel('Overlaid curves', 'compare-charts');
  root.append(chartSec, pickSec);
  const lossChart = new LineChart(chartBody, { id: 'chart-compare-loss', xLabel: 'step', yLabel: 'loss', log: true, height: 300, empty: 'pick runs below' });
  const acc = new LineChart(chartBody, { id: 'chart-compare-acc', xLabel: 'epoch', yLabel: 'test accuracy', yRange: [0, 1], height: 240, empty: 'no epochs' });
  cleanups.push(() => {
    lossChart.destroy();
    acc.destroy();
  });
  logToggle.addEventListener('change', () => {
    lossChart.setLog(logToggle.checked);
    void draw();
  });

  const cache = new Map<string, { steps: StepsResponse; epochs: EpochRow[] }>();
  const load = async (id: string): Promise<{ steps: StepsResponse; epochs: EpochRow[] }> => {
    let v = cache.get(id);
    if (!v) {
      const [steps, epochs] = await Promise.all([src.steps(id, 2000), src.epochs(id)]);
      v = { steps, epochs };
      cache.set(id, v);
    }
    return v;
  };

  let drawSeq = 0;
  const draw = async (): Promise<void> => {
    const my = ++drawSeq;
    const runs = pool.filter((r) => chosen.has(r.id)).slice(0, MAX_RUNS);
    const keys = varying(runs);
    const label = (r: RunSummary): string => {
      const flat = flatten(r.config);
      const bits = keys.slice(0, 4).map((k) => `${k.split('.').pop()}=${short(flat.get(k))}`);
      return bits.length ? `${r.name} (${bits.join(', ')})` : r.name;
    };
    const data = await Promise.all(runs.map((r) => load(r.id)));
    if (my !== drawSeq) return;
    const m = merge(
      data.map((d) => d.steps.cols.step),
      data.map((d) => d.steps.cols.loss),
    );
    const series: LineSeries[] = runs.map((r, i) => ({ label: label(r), values: m.cols[i], color: seriesColor(i) }));
    lossChart.setData(m.x, series);
    const e = merge(
      data.map((d) => d.epochs.map((x) => x.epoch)),
      data.map((d) => d.epochs.map((x) => x.testAcc)),
    );
    acc.setData(
      e.x,
      runs.map((r, i) => ({ label: label(r), values: e.cols[i], color: seriesColor(i), points: true })),
    );
    chartSec.dataset.runs = String(runs.length);
  };

  const renderPicker = (): void => {
    pickBody.replaceChildren(
      pool.length
        ? h(
            'table',
            { class: 'grid small', id: 'compare-runs' },
            h('thead', {}, h('tr', {}, ['', 'run', 'status', 'verdict', 'first NaN', 'test acc'].map((t) => h('th', {}, t)))),
            h(
              'tbody',
              {},
              pool.map((r) => {
                const cb = h('input', { type: 'checkbox', checked: chosen.has(r.id), 'data-run': r.id });
                cb.addEventListener('change', () => {
                  if (cb.checked) chosen.add(r.id);
                  else chosen.delete(r.id);
                  const q = new URLSearchParams();
                  if (sweepId) q.set('sweep', sweepId);
                  q.set('runs', [...chosen].join(','));
                  history.replaceState(null, '', `#/compare?${q.toString()}`);
                  void draw();
                });
                return h(
                  'tr',
                  {},
                  h('td', {}, cb),
                  h('td', {}, h('a', { href: `#/run/${encodeURIComponent(r.id)}` }, r.name)),
                  h('td', {}, statusBadge(r.status)),
                  h('td', {}, verdictBadge(r.verdict)),
                  h('td', { class: 'num' }, r.firstNanStep ?? '–'),
                  h('td', { class: 'num' }, pct(r.finalTestAcc)),
                );
              }),
            ),
          )
        : h('p', { class: 'muted' }, 'No runs yet.'),
    );
  };
  renderPicker();
  sweepSel.addEventListener('change', () => {
    location.hash = sweepSel.value ? `#/compare?sweep=${encodeURIComponent(sweepSel.value)}` : '#/compare';
  });
  await draw();
  root.dataset.ready = '1';
  document.body.dataset.ready = '1';
  return {
    destroy: () => {
      for (const c of cleanups) c();
      delete document.body.dataset.ready;
    },
  };
}
