// One run: live curves, gradient heatmap, per-layer bars, dead ReLUs, update
// ratios, the verdict and the NaN locator report.

import { BarChart } from '../charts/bars.js';
import { Heatmap, LABEL_CHARS } from '../charts/heatmap.js';
import { containers, defaultCollapsed, fitLabel, visibleRows } from '../layer-tree.js';
import { LineChart, type ChartMarker } from '../charts/line.js';
import { seriesColor } from '../charts/colors.js';
import { clear, h, panel } from '../dom.js';
import { duration, fmt, pct, when } from '../format.js';
import { onLang } from '../i18n.js';
import { describeMachine } from '../../../src/store/machine.js';
import { STEP_KEYS } from '../../../src/store/step-columns.js';
import type {
  EpochRow,
  EventRow,
  ProbeStepResponse,
  ProbesResponse,
  RunDetailResponse,
  RunSummary,
  Source,
  StepsResponse,
} from '../source.js';
import {
  asLocator,
  asVerdict,
  eventSummary,
  locatorHeadline,
  renderLocator,
  renderVerdict,
  statusBadge,
  type Locator,
} from '../verdict.js';

type StepCols = StepsResponse['cols'];

const GRAD_FIELDS = ['grad_w_norm', 'grad_out_norm', 'grad_in_norm', 'grad_b_norm'];
const ACTIVATION_KINDS = /relu|elu|gelu|silu|sigmoid|tanh|softplus|mish/i;
const MAX_LOCAL_STEPS = 8000;
const PROBE_REFRESH_MS = 2500;

function emptyCols(): StepCols {
  return Object.fromEntries(STEP_KEYS.map((k) => [k, []])) as unknown as StepCols;
}

function appendCols(a: StepCols, b: StepCols): void {
  const last = a.step.length ? a.step[a.step.length - 1] : -Infinity;
  for (let i = 0; i < b.step.length; i++) {
    if (b.step[i] <= last) continue; // already have it (reconnect overlap)
    for (const k of Object.keys(a) as (keyof StepCols)[]) (a[k] as unknown[]).push(b[k][i]);
  }
}

/** Halve the point count, keeping non-finite steps and the newest one. */
function thinCols(a: StepCols): StepCols {
  const out = emptyCols();
  const n = a.step.length;
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0 || a.nonfinite[i] || i === n - 1 || !Number.isFinite(a.loss[i])) {
      for (const k of Object.keys(a) as (keyof StepCols)[]) (out[k] as unknown[]).push(a[k][i]);
    }
  }
  return out;
}

function isStale(r: { status: string; updatedAt: number }): boolean {
  return r.status === 'running' && Date.now() - r.updatedAt > 60_000;
}

function configText(config: unknown): string {
  if (config === null || config === undefined) return '(no config recorded)';
  try {
    return JSON.stringify(config, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
  } catch {
    return String(config);
  }
}

function modelOf(config: unknown): string | null {
  const c = config && typeof config === 'object' ? (config as Record<string, unknown>) : null;
  const m = c?.model ?? c?.arch ?? c?.net;
  return typeof m === 'string' ? m : null;
}

export interface RunPageHandle {
  destroy(): void;
}

export async function runPage(root: HTMLElement, src: Source, id: string): Promise<RunPageHandle> {
  let detail: RunDetailResponse = await src.run(id);
  const [stepsRes, epochs0, events0] = await Promise.all([src.steps(id), src.epochs(id), src.events(id)]);
  let steps = emptyCols();
  appendCols(steps, stepsRes.cols);
  let epochs: EpochRow[] = epochs0;
  let events: EventRow[] = events0;
  let probes: ProbesResponse | null = null;
  const fields = detail.run.probeFields ?? [];
  const hasField = (f: string): boolean => fields.includes(f);
  let heatField = GRAD_FIELDS.find(hasField) ?? fields[0] ?? '';
  let anyField = hasField('act_std') ? 'act_std' : (fields[0] ?? '');
  let barStep: number | null = null; // null: follow the newest probe (or the NaN step)
  let barsUserPicked = false;
  const cleanups: (() => void)[] = [];
  let destroyed = false;

  clear(root);
  root.dataset.page = 'run';

  // ---------------------------------------------------------------- header
  const head = h('div', { class: 'run-head' });
  const liveDot = h('span', { class: 'live-dot', title: 'live updates', hidden: !src.live });
  root.append(head);
  const renderHead = (): void => {
    const r = detail.run;
    const model = modelOf(r.config);
    const elapsed = (r.finishedAt ?? (r.status === 'running' ? Date.now() : r.updatedAt)) - r.createdAt;
    head.replaceChildren(
      h(
        'h1',
        {},
        r.name,
        ' ',
        statusBadge(r.status, isStale(r)),
        ' ',
        liveDot,
      ),
      h(
        'p',
        { class: 'meta' },
        h('code', {}, r.id),
        ` · ${r.kind}`,
        model ? ` · ${model}` : '',
        r.sweepId ? h('span', {}, ' · sweep ', h('a', { href: `#/compare?sweep=${encodeURIComponent(r.sweepId)}` }, r.sweepId)) : '',
        r.parentId ? h('span', {}, ' · from ', h('a', { href: `#/run/${encodeURIComponent(r.parentId)}` }, r.parentId)) : '',
        ` · started ${when(r.createdAt)} · ${duration(elapsed)}`,
        ` · ${r.stepsDone} steps · ${r.epochsDone} epochs`,
        r.finalTestAcc !== null ? ` · test acc ${pct(r.finalTestAcc)}` : '',
        r.firstNanStep !== null ? h('span', { class: 'trouble' }, ` · first NaN at step ${r.firstNanStep}`) : '',
      ),
      // Where a run near the edge of divergence goes NaN depends on the machine (store migration 6).
      r.machine ? h('p', { class: 'meta machine' }, `machine: ${describeMachine(r.machine)}`) : '',
      r.error ? h('p', { class: 'error' }, r.error) : '',
    );
  };
  renderHead();

  // ------------------------------------------------------ verdict + locator
  const summary = h('div', { class: 'summary-row' });
  root.append(summary);
  const [verdictSec, verdictBody] = panel('Verdict', 'verdict', 'verdict-panel');
  const [locSec, locBody] = panel('NaN locator report', 'locator', 'locator-panel');
  locSec.hidden = true;
  const closeLoc = h('button', { type: 'button', class: 'close', title: 'close' }, '×');
  closeLoc.addEventListener('click', () => {
    locSec.hidden = true;
  });
  locSec.querySelector('h2')?.append(closeLoc);
  summary.append(verdictSec, locSec);
  let locDestroy: (() => void) | null = null;
  let shownLocator: Locator | null = null;

  const nanEvents = (): EventRow[] => events.filter((e) => e.kind === 'nan');
  const mainLocator = (): Locator | null => asLocator(detail.run.report) ?? asLocator(nanEvents()[0]?.payload);

  const renderVerdictPanel = (): void => {
    const v = asVerdict(detail.run.verdict);
    const loc = mainLocator();
    verdictBody.replaceChildren();
    if (v) verdictBody.append(renderVerdict(v));
    else
      verdictBody.append(
        h('p', { class: 'muted' }, detail.run.status === 'running' ? 'No verdict yet (the run is still going).' : 'No verdict recorded.'),
      );
    if (loc) {
      verdictBody.append(
        h(
          'p',
          { class: 'trouble-line' },
          locatorHeadline(loc),
          ' ',
          h('button', { type: 'button', class: 'open-locator', onclick: () => openLocator(loc) }, 'Open locator report'),
        ),
      );
    }
  };

  const openLocator = (l: Locator | null): void => {
    if (!l) return;
    shownLocator = l;
    locDestroy?.();
    const r = renderLocator(l);
    locDestroy = r.destroy;
    locBody.replaceChildren(r.el);
    locSec.hidden = false;
    locSec.classList.remove('flash');
    void locSec.offsetWidth;
    locSec.classList.add('flash');
    locSec.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  };
  renderVerdictPanel();
  cleanups.push(
    onLang(() => {
      renderVerdictPanel();
      if (!locSec.hidden && shownLocator) openLocator(shownLocator);
    }),
  );
  cleanups.push(() => locDestroy?.());

  // ----------------------------------------------------------- step charts
  const [curvesSec, curvesBody] = panel('Training curves', 'curves');
  root.append(curvesSec);
  const lossLog = h('input', { type: 'checkbox', id: 'loss-log' });
  curvesBody.append(h('div', { class: 'controls' }, h('label', {}, lossLog, ' log-scale loss')));
  const lossChart = new LineChart(curvesBody, { id: 'chart-loss', xLabel: 'step', yLabel: 'loss', sync: 'steps', height: 260 });
  let lossLogPicked = false;
  lossLog.addEventListener('change', () => {
    lossLogPicked = true;
    lossChart.setLog(lossLog.checked);
    drawSteps();
  });
  const gradChart = new LineChart(curvesBody, {
    id: 'chart-gradnorm',
    xLabel: 'step',
    yLabel: 'global grad norm',
    log: true,
    sync: 'steps',
    height: 180,
    empty: 'no gradient norms recorded',
  });
  const accChart = new LineChart(curvesBody, {
    id: 'chart-acc',
    xLabel: 'epoch',
    yLabel: 'accuracy',
    yRange: [0, 1],
    height: 220,
    empty: 'no finished epoch yet',
  });
  cleanups.push(() => {
    lossChart.destroy();
    gradChart.destroy();
    accChart.destroy();
  });

  const nanMarkers = (): ChartMarker[] => {
    const seen = new Set<number>();
    const out: ChartMarker[] = [];
    for (const e of nanEvents()) {
      const l = asLocator(e.payload);
      const s = e.step ?? l?.step;
      if (s === undefined || s === null || seen.has(s)) continue;
      seen.add(s);
      out.push({
        x: s,
        label: 'NaN',
        cls: 'nan-marker',
        title: l ? `${locatorHeadline(l)} — click for the locator report` : `non-finite at step ${s}`,
        onClick: () => openLocator(l ?? mainLocator()),
      });
    }
    const first = detail.run.firstNanStep;
    if (first !== null && !seen.has(first)) {
      out.push({
        x: first,
        label: 'NaN',
        cls: 'nan-marker',
        title: `first non-finite step ${first} — click for the locator report`,
        onClick: () => openLocator(mainLocator() ?? { step: first }),
      });
    }
    return out.slice(0, 12);
  };
  // The early warning (src/diagnose/warning.ts) fires once, before the NaN: its own marker.
  const warningMarkers = (): ChartMarker[] =>
    events.filter((e) => e.kind === 'warning' && e.step !== null).slice(0, 1).map((e) => {
      const w = e.payload as { en?: string } | null;
      return { x: e.step!, label: '!', cls: 'warn-marker', title: `early warning at step ${e.step}: ${w?.en ?? ''}` };
    });
  const curveMarkers = (): ChartMarker[] => [...warningMarkers(), ...nanMarkers()];

  let drawQueued = false;
  const drawSteps = (): void => {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => {
      drawQueued = false;
      if (destroyed) return;
      if (!lossLogPicked) {
        // Exploding runs span many decades: switch to log until the user picks.
        const finite = steps.loss.filter((v) => Number.isFinite(v) && v > 0);
        const wantLog = finite.length > 1 && Math.max(...finite) > 1e3 * Math.max(1e-12, Math.min(...finite));
        lossLog.checked = wantLog;
        lossChart.setLog(wantLog);
      }
      lossChart.setData(steps.step, [{ label: 'loss', values: steps.loss, color: '#1f77b4' }]);
      lossChart.setMarkers(curveMarkers());
      const gn = steps.gradNorm;
      if (gn.some((v) => v !== null)) { gradChart.setData(steps.step, [{ label: 'grad norm', values: gn, color: '#ff7f0e' }]); gradChart.setMarkers(curveMarkers()); }
      else gradChart.setData([], []);
    });
  };
  const drawEpochs = (): void => {
    const x = epochs.map((e) => e.epoch);
    accChart.setData(x, [
      { label: 'train acc', values: epochs.map((e) => e.trainAcc), color: '#2ca02c', points: true },
      { label: 'test acc', values: epochs.map((e) => e.testAcc), color: '#d62728', points: true },
    ]);
  };
  drawSteps();
  drawEpochs();

  // --------------------------------------------------------------- heatmap
  const [heatSec, heatBody] = panel('Gradient norms per layer (log colour scale)', 'heat');
  root.append(heatSec);
  const fieldSelect = h('select', { id: 'heat-field' });
  const heatOptions = [...GRAD_FIELDS.filter(hasField), ...fields.filter((f) => !GRAD_FIELDS.includes(f))];
  for (const f of heatOptions) fieldSelect.append(h('option', { value: f, selected: f === heatField }, f));
  heatBody.append(
    h('div', { class: 'controls' }, h('label', {}, 'field ', fieldSelect), h('span', { class: 'muted' }, ' click a column to inspect that step below')),
  );
  const heatmap = new Heatmap(heatBody, {
    id: 'heatmap',
    onPick: (s) => {
      barsUserPicked = true;
      setBarStep(s);
    },
    onRowClick: (r) => toggleBlock(shownRows()[r]),
  });
  cleanups.push(() => heatmap.destroy());
  if (!fields.length) heatBody.append(h('p', { class: 'muted' }, 'This run records no per-layer probes.'));

  // ------------------------------------------------------------------ bars
  const [barSec, barBody] = panel('Layers at one step', 'layers-at-step');
  root.append(barSec);
  const slider = h('input', { type: 'range', id: 'bar-step', min: 0, max: 0, step: 1, value: 0 });
  const stepLabel = h('span', { class: 'step-label', id: 'bar-step-label' }, '–');
  const anySelect = h('select', { id: 'bar-field' });
  for (const f of fields) anySelect.append(h('option', { value: f, selected: f === anyField }, f));
  barBody.append(h('div', { class: 'controls' }, h('label', {}, 'step ', slider), stepLabel));
  const barGrid = h('div', { class: 'bar-grid' });
  barBody.append(barGrid);
  const barActMax = new BarChart(barGrid, { id: 'bar-actmax', title: 'act max |x|', log: true, color: '#9467bd' });
  const barDead = new BarChart(barGrid, { id: 'bar-dead', title: 'dead fraction (exact zeros)', yRange: [0, 1], color: '#8c564b' });
  const barRatio = new BarChart(barGrid, {
    id: 'bar-ratio',
    title: 'update / weight ratio',
    log: true,
    color: '#17becf',
    refLines: [{ y: 1e-3, label: '1e-3' }],
  });
  const anyBox = h('div', { class: 'any-field' }, h('label', {}, 'any field ', anySelect));
  barGrid.append(anyBox);
  const barAny = new BarChart(anyBox, { id: 'bar-any', title: anyField, log: false, color: '#7f7f7f' });
  cleanups.push(() => [barActMax, barDead, barRatio, barAny].forEach((b) => b.destroy()));

  // ------------------------------------------------------------ histograms
  // |x| per layer on a log scale (two octaves per bar): explosion shows as mass drifting to the
  // right and into NaN/Inf, vanishing as early layers' gradients sitting far left of late ones'.
  const [histSec, histBody] = panel('Histograms at one step', 'histograms');
  root.append(histSec);
  const histLayer = h('select', { id: 'hist-layer' });
  const histLabel = h('span', { class: 'step-label', id: 'hist-step-label' }, 'no histograms recorded yet');
  histBody.append(h('div', { class: 'controls' }, h('label', {}, 'layer ', histLayer), histLabel,
    h('span', { class: 'muted' }, ' fraction of elements per |x| bin (log); the step follows the slider above')));
  const histGrid = h('div', { class: 'bar-grid' });
  histBody.append(histGrid);
  let histBinText: string[] = [];
  const histOpts = { log: true, xName: '|x|', xText: (i: number) => histBinText[i] ?? '', sparseLabels: true };
  const histAct = new BarChart(histGrid, { id: 'hist-act', title: '|activation| (layer output)', color: '#1f77b4', ...histOpts });
  const histGrad = new BarChart(histGrid, { id: 'hist-grad', title: '|gradient| at the layer output', color: '#d62728', ...histOpts });
  cleanups.push(() => [histAct, histGrad].forEach((b) => b.destroy()));
  let lastHist: ProbeStepResponse['hist'] = null;
  const drawHist = (hs: ProbeStepResponse['hist'], kinds: string[]): void => {
    lastHist = hs;
    histSec.dataset.step = hs ? String(hs.step) : '';
    if (!hs) {
      histLabel.textContent = 'no histograms at or before this step (recorded every --hist-every probed steps)';
      histAct.setData([], []);
      histGrad.setData([], []);
      return;
    }
    if (histLayer.options.length !== hs.layers.length) {
      const keep = histLayer.value;
      histLayer.replaceChildren(...hs.layers.map((name, l) => h('option', { value: String(l) }, `${name} ${kinds[l] ?? ''}`)));
      histLayer.value = keep && Number(keep) < hs.layers.length ? keep : String(Math.max(0, hs.act.findIndex((r) => r !== null)));
    }
    const l = Number(histLayer.value);
    const mags = hs.lower.length;
    const a = hs.act[l], g = hs.grad[l];
    // Show the bins between the smallest and largest non-empty ones of either histogram.
    let lo = mags, hi = -1;
    for (const r of [a, g]) if (r) for (let b = 0; b < mags; b++) if (r[b] > 0) { lo = Math.min(lo, b); hi = Math.max(hi, b); }
    if (hi < 0) { lo = 0; hi = -1; }
    const bins = [...Array.from({ length: hi - lo + 1 }, (_, k) => lo + k), mags, mags + 1];
    // Each bar spans a factor of 4; label the bars holding a power of ten, thinned to ~10 labels.
    const decadeIn = (b: number): number | null => {
      const k = Math.ceil(Math.log10(hs.lower[b]) - 1e-9);
      return 10 ** k < hs.lower[b] * 4 ? k : null;
    };
    const every = Math.max(1, Math.ceil((hi - lo + 1) * Math.log10(4) / 10));
    const labels = bins.map((b) => {
      if (b === mags) return '0';
      if (b === mags + 1) return 'NaN/Inf';
      const k = decadeIn(b);
      return k !== null && k % every === 0 ? `1e${k}` : '';
    });
    histBinText = bins.map((b) => (b === mags ? 'exactly 0' : b === mags + 1 ? 'NaN or ±Inf' : `${fmt(hs.lower[b], 3)} – ${fmt(hs.lower[b] * 4, 3)}`));
    const frac = (r: number[] | null): number[] => {
      if (!r) return bins.map(() => Number.NaN);
      const total = r.reduce((x, y) => x + y, 0) || 1;
      return bins.map((b) => r[b] / total);
    };
    histAct.setData(labels, frac(a), a ? [] : bins.map(() => true));
    histGrad.setData(labels, frac(g), g ? [] : bins.map(() => true));
    const nonfin = (r: number[] | null) => (r ? r[mags + 1] : 0);
    histLabel.textContent = `step ${hs.step}` + (nonfin(a) + nonfin(g) > 0 ? ` · ${nonfin(a) + nonfin(g)} NaN/Inf elements` : '');
  };
  let histKinds: string[] = [];
  histLayer.addEventListener('change', () => drawHist(lastHist, histKinds));

  // ---------------------------------------------------------- over time
  const [timeSec, timeBody] = panel('Per-layer health over time', 'over-time');
  root.append(timeSec);
  const deadChart = new LineChart(timeBody, {
    id: 'chart-dead',
    xLabel: 'step',
    yLabel: 'dead fraction',
    yRange: [0, 1],
    height: 220,
    empty: hasField('act_zero_frac') ? 'no probes yet' : 'act_zero_frac not recorded',
  });
  const ratioChart = new LineChart(timeBody, {
    id: 'chart-ratio',
    xLabel: 'step',
    yLabel: 'update / weight',
    log: true,
    height: 220,
    refLines: [{ y: 1e-3, label: '≈1e-3 is healthy' }],
    empty: hasField('update_ratio') ? 'no probes yet' : 'update_ratio not recorded',
  });
  cleanups.push(() => {
    deadChart.destroy();
    ratioChart.destroy();
  });

  // ---------------------------------------------------- events + config
  const [evSec, evBody] = panel('Events', 'events');
  const [cfgSec, cfgBody] = panel('Config', 'config');
  root.append(evSec, cfgSec);
  const renderEvents = (): void => {
    if (!events.length) {
      evBody.replaceChildren(h('p', { class: 'muted' }, 'No events.'));
      return;
    }
    evBody.replaceChildren(
      h(
        'table',
        { class: 'grid small' },
        h('thead', {}, h('tr', {}, h('th', {}, 'kind'), h('th', {}, 'step'), h('th', {}, 'when'), h('th', {}, 'details'))),
        h(
          'tbody',
          {},
          events.slice(-200).map((e) => {
            const tr = h(
              'tr',
              { class: `event-${e.kind}` },
              h('td', {}, h('span', { class: `badge ev-${e.kind}` }, e.kind)),
              h('td', {}, e.step ?? '–'),
              h('td', {}, when(e.at)),
              h('td', {}, eventSummary(e.kind, e.payload)),
            );
            if (e.kind === 'nan') {
              tr.classList.add('clickable');
              tr.addEventListener('click', () => openLocator(asLocator(e.payload)));
            }
            return tr;
          }),
        ),
      ),
    );
  };
  const renderConfig = (): void => {
    const arts = detail.artifacts;
    cfgBody.replaceChildren(
      h('pre', { class: 'config' }, configText(detail.run.config)),
      arts.length
        ? h(
            'div',
            {},
            h('h3', {}, 'Artifacts'),
            h(
              'ul',
              {},
              arts.map((a) =>
                h(
                  'li',
                  {},
                  src.live
                    ? h('a', { href: `api/runs/${encodeURIComponent(id)}/files/${a.relPath.split('/').map(encodeURIComponent).join('/')}` }, a.relPath)
                    : a.relPath,
                  ` · ${a.kind}${a.step !== null ? ` · step ${a.step}` : ''}`,
                ),
              ),
            ),
          )
        : '',
    );
  };
  renderEvents();
  renderConfig();

  // ------------------------------------------------------- probe plumbing
  // Module trees: rows in execution order, blocks folded (click a block's label) so a deep
  // net still fits; a folded block's row stands for everything below it.
  let collapsed = defaultCollapsed(detail.layers);
  let foldedFor = detail.layers.length; // a live run's layers may arrive after the page opened
  const blocks = (): Set<string> => containers(detail.layers);
  const shownRows = (): number[] => {
    if (foldedFor !== detail.layers.length) { collapsed = defaultCollapsed(detail.layers); foldedFor = detail.layers.length; }
    return detail.layers.length ? visibleRows(detail.layers, collapsed) : (probes?.layers ?? []).map((_, i) => i);
  };
  const toggleBlock = (i: number | undefined): void => {
    const l = i === undefined ? undefined : detail.layers[i];
    if (!l || !blocks().has(l.name)) return;
    collapsed = new Set(collapsed);
    if (!collapsed.delete(l.name)) collapsed.add(l.name);
    drawHeatmap();
    drawOverTime();
    if (barStep !== null) void loadBars(barStep);
  };
  const layerLabel = (i: number): string => {
    const l = detail.layers[i];
    if (!l) return String(i);
    const alias = l.alias ?? asVerdict(detail.run.verdict)?.layers.find((v) => v.name === l.name)?.alias;
    return fitLabel({ ...l, alias }, LABEL_CHARS);
  };
  const na = (field: string): boolean[] => {
    const p = probes;
    if (!p || !p.series[field]) return [];
    const nl = p.layers.length;
    const s = p.series[field];
    const out = new Array<boolean>(nl).fill(true);
    for (let i = 0; i < s.length; i++) if (!Number.isNaN(s[i])) out[i % nl] = false;
    return out;
  };
  const column = (field: string, l: number): number[] => {
    const p = probes;
    if (!p || !p.series[field]) return [];
    const nl = p.layers.length;
    return p.steps.map((_, i) => p.series[field][i * nl + l]);
  };

  const drawHeatmap = (): void => {
    const p = probes;
    if (!p || !heatField) return;
    const rows = shownRows();
    const all = p.series[heatField] ?? [];
    const nl = p.layers.length;
    const values = new Float64Array(p.steps.length * rows.length);
    for (let i = 0; i < p.steps.length; i++) rows.forEach((l, r) => { values[i * rows.length + r] = all[i * nl + l]; });
    const bs = blocks();
    heatmap.setData({
      steps: p.steps, labels: rows.map(layerLabel), values,
      rows: rows.map((l) => {
        const m = detail.layers[l];
        return { indent: Math.max(0, (m?.depth ?? 1) - 1), block: !!m && bs.has(m.name), collapsed: !!m && collapsed.has(m.name),
          title: m ? `${m.name} ${m.kind}${m.alias ? ` ${m.alias}` : ''}` : String(l) };
      }),
    });
    const loc = mainLocator();
    // The located layer, or the folded block that stands for it.
    const row = loc?.layer !== undefined && loc.layer !== null
      ? rows.findIndex((l) => { const n = p.layers[l]; return n === loc.layer || (collapsed.has(n) && String(loc.layer).startsWith(`${n}.`)); })
      : -1;
    heatmap.setMarks(nanMarkers().map((m) => m.x), row >= 0 ? row : null);
    heatmap.setSelected(barStep);
  };

  const drawOverTime = (): void => {
    const p = probes;
    if (!p) return;
    const kinds = p.kinds;
    if (hasField('act_zero_frac')) {
      const naDead = na('act_zero_frac');
      const shown = new Set(shownRows());
      let idx = kinds.map((k, i) => (/relu/i.test(k) && !naDead[i] && shown.has(i) ? i : -1)).filter((i) => i >= 0);
      if (!idx.length) idx = kinds.map((k, i) => (ACTIVATION_KINDS.test(k) && !naDead[i] && shown.has(i) ? i : -1)).filter((i) => i >= 0);
      deadChart.setData(
        p.steps,
        idx.map((l, k) => ({ label: layerLabel(l), values: column('act_zero_frac', l), color: seriesColor(k) })),
      );
    }
    if (hasField('update_ratio')) {
      const naR = na('update_ratio');
      const idx = shownRows().filter((i) => !naR[i]);
      ratioChart.setData(
        p.steps,
        idx.map((l, k) => ({ label: layerLabel(l), values: column('update_ratio', l), color: seriesColor(k) })),
      );
    }
  };

  let barReq = 0;
  const drawBars = (ps: ProbeStepResponse): void => {
    const rows = shownRows().filter((i) => i < ps.layers.length);
    const labels = rows.map((i) => (detail.layers[i] ? layerLabel(i) : ps.layers[i]));
    const val = (f: string): number[] => {
      const fi = ps.fields.indexOf(f);
      return fi < 0 ? labels.map(() => Number.NaN) : rows.map((i) => ps.values[i][fi]);
    };
    const naOf = (f: string): boolean[] => {
      const known = na(f);
      // Without a series for this field, treat an all-NaN layer at this step as n/a
      // unless the step itself was non-finite.
      return known.length ? rows.map((i) => known[i]) : val(f).map((v) => Number.isNaN(v));
    };
    barActMax.setData(labels, val('act_max'), naOf('act_max'));
    barDead.setData(labels, val('act_zero_frac'), naOf('act_zero_frac'));
    barRatio.setData(labels, val('update_ratio'), naOf('update_ratio'));
    barAny.setData(labels, val(anyField), naOf(anyField));
    stepLabel.textContent = ps.step === ps.requested ? `step ${ps.step}` : `step ${ps.step} (nearest probe to ${ps.requested})`;
    histKinds = ps.kinds;
    drawHist(ps.hist ?? null, ps.kinds);
    barSec.dataset.step = String(ps.step);
  };
  const loadBars = async (s: number): Promise<void> => {
    const my = ++barReq;
    try {
      const ps = await src.probeAt(id, s);
      if (my === barReq && !destroyed) drawBars(ps);
    } catch (err) {
      if (my === barReq) stepLabel.textContent = (err as Error).message;
    }
  };
  let barTimer: ReturnType<typeof setTimeout> | null = null;
  const setBarStep = (s: number): void => {
    barStep = s;
    slider.value = String(s);
    heatmap.setSelected(s);
    if (barTimer) clearTimeout(barTimer);
    barTimer = setTimeout(() => void loadBars(s), 120);
  };
  cleanups.push(() => {
    if (barTimer) clearTimeout(barTimer);
  });
  slider.addEventListener('input', () => {
    barsUserPicked = true;
    const p = probes;
    if (!p || !p.steps.length) return;
    // Snap to the nearest probed step.
    const want = Number(slider.value);
    let best = p.steps[0];
    for (const s of p.steps) if (Math.abs(s - want) < Math.abs(best - want)) best = s;
    setBarStep(best);
  });

  const defaultBarStep = (): number | null => {
    const p = probes;
    if (!p || !p.steps.length) return null;
    const first = detail.run.firstNanStep;
    if (first !== null && p.steps.some((s) => s <= first)) return first;
    return p.steps[p.steps.length - 1];
  };

  const probeFieldsWanted = (): string[] =>
    [...new Set([heatField, 'act_max', 'act_zero_frac', 'update_ratio', anyField])].filter((f) => f && hasField(f));

  let probeBusy = false;
  let probeAgain = false;
  const loadProbes = async (): Promise<void> => {
    if (!fields.length) return;
    if (probeBusy) {
      probeAgain = true;
      return;
    }
    probeBusy = true;
    try {
      probes = await src.probes(id, probeFieldsWanted());
      if (destroyed) return;
      const p = probes;
      if (p.steps.length) {
        slider.min = String(p.steps[0]);
        slider.max = String(p.steps[p.steps.length - 1]);
      }
      drawHeatmap();
      drawOverTime();
      if (!barsUserPicked) {
        const s = defaultBarStep();
        if (s !== null && s !== barStep) setBarStep(s);
      } else if (barStep !== null) {
        void loadBars(barStep);
      }
    } catch (err) {
      heatSec.dataset.error = (err as Error).message;
    } finally {
      probeBusy = false;
      if (probeAgain && !destroyed) {
        probeAgain = false;
        void loadProbes();
      }
    }
  };
  fieldSelect.addEventListener('change', () => {
    heatField = fieldSelect.value;
    void loadProbes();
  });
  anySelect.addEventListener('change', () => {
    anyField = anySelect.value;
    const t = barAny.el.querySelector('h3');
    if (t) t.textContent = anyField;
    void loadProbes();
  });
  await loadProbes();

  // ------------------------------------------------------------------ live
  let lastProbeFetch = Date.now();
  let probeTimer: ReturnType<typeof setTimeout> | null = null;
  const scheduleProbes = (): void => {
    if (probeTimer) return;
    const wait = Math.max(0, PROBE_REFRESH_MS - (Date.now() - lastProbeFetch));
    probeTimer = setTimeout(() => {
      probeTimer = null;
      lastProbeFetch = Date.now();
      void loadProbes();
    }, wait);
  };
  cleanups.push(() => {
    if (probeTimer) clearTimeout(probeTimer);
  });

  const refreshDetail = async (): Promise<void> => {
    try {
      detail = await src.run(id);
      if (destroyed) return;
      renderHead();
      renderVerdictPanel();
      renderConfig();
      drawSteps();
      drawHeatmap();
    } catch {
      // keep what we have; the next message retries
    }
  };

  if (src.live) {
    const lastEventId = (): number | null => (events.length ? events[events.length - 1].id : 0);
    const unsub = src.subscribe(
      id,
      () => ({
        since: steps.step.length ? steps.step[steps.step.length - 1] : (stepsRes.latest ?? -1),
        epoch: epochs.length ? Math.max(...epochs.map((e) => e.epoch)) : -1,
        event: lastEventId(),
      }),
      {
        connection: (up) => {
          liveDot.classList.toggle('up', up);
          root.dataset.live = up ? '1' : '0';
        },
        steps: (cols) => {
          appendCols(steps, cols);
          if (steps.step.length > MAX_LOCAL_STEPS) steps = thinCols(steps);
          drawSteps();
        },
        epochs: (rows) => {
          const byEpoch = new Map(epochs.map((e) => [e.epoch, e]));
          for (const r of rows) byEpoch.set(r.epoch, r);
          epochs = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
          drawEpochs();
        },
        events: (rows) => {
          const have = new Set(events.map((e) => e.id));
          events = [...events, ...rows.filter((e) => !have.has(e.id))];
          renderEvents();
          if (rows.some((e) => e.kind === 'nan')) {
            void refreshDetail();
          }
          drawSteps();
        },
        probes: () => scheduleProbes(),
        run: (r: RunSummary) => {
          const prev = detail.run;
          const changed =
            prev.status !== r.status ||
            (prev.report != null) !== r.hasReport ||
            JSON.stringify(prev.verdict) !== JSON.stringify(r.verdict) ||
            prev.firstNanStep !== r.firstNanStep;
          detail = { ...detail, run: { ...r, report: prev.report } };
          renderHead();
          if (changed) void refreshDetail();
        },
      },
    );
    cleanups.push(unsub);
  }

  root.dataset.ready = '1';
  document.body.dataset.ready = '1';
  return {
    destroy: () => {
      destroyed = true;
      for (const c of cleanups.reverse()) c();
      delete root.dataset.ready;
      delete document.body.dataset.ready;
    },
  };
}
