// One run: live curves, gradient heatmap, per-layer bars, dead ReLUs, update
// ratios, the verdict and the NaN locator report. This file fetches the run,
// builds the panels (pages/run/*, each owning its DOM and state), routes live
// updates and the panels' selections between them, and cleans up.

import { clear, h } from '../dom.js';
import type { ProbesResponse, Source } from '../source.js';
import type { Locator } from '../verdict.js';
import { BarsPanel } from './run/bars-panel.js';
import { ConfigPanel } from './run/config-panel.js';
import { CurvesPanel } from './run/curves.js';
import { RunData } from './run/data.js';
import { EventsPanel } from './run/events-panel.js';
import { RunHeader } from './run/header.js';
import { HeatmapPanel } from './run/heatmap-panel.js';
import { HistogramsPanel } from './run/histograms.js';
import { LayerFold, type LayerRows } from './run/layer-fold.js';
import { LocatorPanel } from './run/locator-panel.js';
import { mainLocator, nanMarks, warnMarks } from './run/marks.js';
import { OverTimePanel } from './run/over-time.js';
import { ProbeFeed } from './run/probe-feed.js';
import { VerdictPanel } from './run/verdict-panel.js';

export interface RunPageHandle {
  destroy(): void;
}

export async function runPage(root: HTMLElement, src: Source, id: string): Promise<RunPageHandle> {
  const data = await RunData.load(src, id);
  const fields = data.detail.run.probeFields ?? [];
  const fold = new LayerFold(data.detail);
  let probes: ProbesResponse | null = null;
  let destroyed = false;

  clear(root);
  root.dataset.page = 'run';
  // Built in page order. A panel hears of another's selection only through these callbacks
  // (some name panels built further down: they run on user input, after the page is built).
  const open = (l: Locator | null): void => locator.open(l);
  const header = new RunHeader(root, src.live);
  const summary = h('div', { class: 'summary-row' });
  root.append(summary);
  const verdict = new VerdictPanel(summary, open);
  const locator = new LocatorPanel(summary);
  const curves = new CurvesPanel(root, open);
  const heat = new HeatmapPanel(root, fields, {
    pick: (s) => bars.pick(s),
    toggle: (layer) => {
      if (fold.toggle(data.detail, layer)) showFold();
    },
    field: () => void feed.load(),
  });
  const bars = new BarsPanel(root, fields, {
    fetchStep: (s) => src.probeAt(id, s),
    select: (s) => heat.setSelected(s),
    stepData: (ps) => hist.show(ps.hist ?? null, ps.kinds),
    field: () => void feed.load(),
  });
  const hist = new HistogramsPanel(root);
  const overTime = new OverTimePanel(root, fields);
  const eventList = new EventsPanel(root, open);
  const config = new ConfigPanel(root, src.live ? (rel) => `api/runs/${encodeURIComponent(id)}/files/${rel.split('/').map(encodeURIComponent).join('/')}` : null);

  // The probe fields the heatmap and the bars show, fetched together.
  const wanted = (): string[] =>
    [...new Set([heat.field, 'act_max', 'act_zero_frac', 'update_ratio', bars.field])].filter((f) => f && fields.includes(f));
  const feed = new ProbeFeed(() => src.probes(id, wanted()), {
    data: (p) => {
      probes = p;
      const rows = showProbes();
      if (rows) bars.setProbes(p, rows, data.detail.run.firstNanStep);
    },
    error: (message) => heat.setError(message),
  });

  /** Redraw the per-layer views from the current probes; returns the rows shown. */
  const showProbes = (): LayerRows | null => {
    if (!probes) return null;
    const rows = fold.rows(data.detail, probes.layers.length);
    const run = data.detail.run;
    heat.update({ probes, rows, nanSteps: nanMarks(run, data.events).map((m) => m.step), locator: mainLocator(run, data.events) });
    overTime.update(probes, rows);
    return rows;
  };
  const showFold = (): void => {
    const rows = showProbes();
    if (rows) bars.setRows(rows);
  };
  const showMarks = (): void => curves.setMarks(nanMarks(data.detail.run, data.events), warnMarks(data.events));
  const showRun = (): void => {
    const run = data.detail.run;
    header.update(run);
    verdict.update(run, mainLocator(run, data.events));
    config.update(data.detail);
    showMarks();
    showProbes();
  };
  const refreshDetail = async (): Promise<void> => {
    try {
      data.setDetail(await src.run(id));
      if (!destroyed) showRun();
    } catch {
      // keep what we have; the next message retries
    }
  };

  showRun();
  curves.setSteps(data.steps);
  curves.setEpochs(data.epochs);
  eventList.update(data.events);
  if (fields.length) await feed.load();

  const unsubscribe = !src.live
    ? null
    : src.subscribe(id, () => data.cursor(), {
        connection: (up) => {
          header.setConnected(up);
          root.dataset.live = up ? '1' : '0';
        },
        steps: (cols) => {
          data.addSteps(cols);
          curves.setSteps(data.steps);
        },
        epochs: (rows) => {
          data.addEpochs(rows);
          curves.setEpochs(data.epochs);
        },
        events: (rows) => {
          data.addEvents(rows);
          eventList.update(data.events);
          if (rows.some((e) => e.kind === 'nan')) void refreshDetail();
          showMarks();
        },
        probes: () => {
          if (fields.length) feed.schedule();
        },
        run: (r) => {
          const changed = data.setSummary(r);
          header.update(data.detail.run);
          if (changed) void refreshDetail();
        },
      });

  root.dataset.ready = '1';
  document.body.dataset.ready = '1';
  return {
    destroy: () => {
      destroyed = true;
      unsubscribe?.();
      feed.destroy();
      for (const p of [bars, heat, curves, overTime, hist, locator, verdict]) p.destroy();
      delete root.dataset.ready;
      delete document.body.dataset.ready;
    },
  };
}
