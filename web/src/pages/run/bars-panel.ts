// Every layer at one step: activation max, dead fraction, update ratio and a field of the
// user's choice. Owns the step selection: it follows the newest probe (or the first NaN step)
// until the user picks one, with its slider or through pick() (a heatmap click). Tells the
// page each selection (onSelect) and each step's data (onStepData, for the histograms).

import { BarChart } from '../../charts/bars.js';
import { h, panel } from '../../dom.js';
import type { ProbeStepResponse, ProbesResponse } from '../../source.js';
import type { LayerRows } from './layer-fold.js';
import { naLayers } from './probe-series.js';

/** Wait this long after the last selection before fetching its step (a dragged slider fires a lot). */
const LOAD_DELAY_MS = 120;

export interface BarsPanelEvents {
  fetchStep(step: number): Promise<ProbeStepResponse>;
  /** The selected step changed. */
  select(step: number): void;
  /** The selected step's data arrived. */
  stepData(ps: ProbeStepResponse): void;
  /** The "any field" changed: its probes need fetching. */
  field(name: string): void;
}

export class BarsPanel {
  private readonly sec: HTMLElement;
  private readonly slider = h('input', { type: 'range', id: 'bar-step', min: 0, max: 0, step: 1, value: 0 });
  private readonly stepLabel = h('span', { class: 'step-label', id: 'bar-step-label' }, '–');
  private readonly actMax: BarChart;
  private readonly dead: BarChart;
  private readonly ratio: BarChart;
  private readonly any: BarChart;
  private anyField: string;
  private probes: ProbesResponse | null = null;
  private rows: LayerRows | null = null;
  /** null: nothing selected yet. */
  private step: number | null = null;
  private userPicked = false;
  /** Only the newest fetch may draw (an older one can resolve last). */
  private req = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private destroyed = false;

  constructor(
    parent: HTMLElement,
    fields: readonly string[],
    private readonly on: BarsPanelEvents,
  ) {
    let body: HTMLElement;
    [this.sec, body] = panel('Layers at one step', 'layers-at-step');
    parent.append(this.sec);
    this.anyField = fields.includes('act_std') ? 'act_std' : (fields[0] ?? '');
    const anySelect = h('select', { id: 'bar-field' });
    for (const f of fields) anySelect.append(h('option', { value: f, selected: f === this.anyField }, f));
    body.append(h('div', { class: 'controls' }, h('label', {}, 'step ', this.slider), this.stepLabel));
    const grid = h('div', { class: 'bar-grid' });
    body.append(grid);
    this.actMax = new BarChart(grid, { id: 'bar-actmax', title: 'act max |x|', log: true, color: '#9467bd' });
    this.dead = new BarChart(grid, { id: 'bar-dead', title: 'dead fraction (exact zeros)', yRange: [0, 1], color: '#8c564b' });
    this.ratio = new BarChart(grid, {
      id: 'bar-ratio',
      title: 'update / weight ratio',
      log: true,
      color: '#17becf',
      refLines: [{ y: 1e-3, label: '1e-3' }],
    });
    const anyBox = h('div', { class: 'any-field' }, h('label', {}, 'any field ', anySelect));
    grid.append(anyBox);
    this.any = new BarChart(anyBox, { id: 'bar-any', title: this.anyField, log: false, color: '#7f7f7f' });

    this.slider.addEventListener('input', () => {
      this.userPicked = true;
      const p = this.probes;
      if (!p || !p.steps.length) return;
      // Snap to the nearest probed step.
      const want = Number(this.slider.value);
      let best = p.steps[0];
      for (const s of p.steps) if (Math.abs(s - want) < Math.abs(best - want)) best = s;
      this.select(best);
    });
    anySelect.addEventListener('change', () => {
      this.anyField = anySelect.value;
      const t = this.any.el.querySelector('h3');
      if (t) t.textContent = this.anyField;
      on.field(this.anyField);
    });
  }

  /** The field the fourth chart shows. */
  get field(): string {
    return this.anyField;
  }

  /**
   * New probes: the slider's range, and the step to show: the first NaN step while it is
   * probed, else the newest probe, unless the user picked one (then refetch it).
   */
  setProbes(p: ProbesResponse, rows: LayerRows, firstNanStep: number | null): void {
    this.probes = p;
    this.rows = rows;
    if (p.steps.length) {
      this.slider.min = String(p.steps[0]);
      this.slider.max = String(p.steps[p.steps.length - 1]);
    }
    if (!this.userPicked) {
      const s = !p.steps.length ? null : firstNanStep !== null && p.steps.some((x) => x <= firstNanStep) ? firstNanStep : p.steps[p.steps.length - 1];
      if (s !== null && s !== this.step) this.select(s);
    } else if (this.step !== null) {
      void this.load(this.step);
    }
  }

  /** The layers shown changed (a block folded). */
  setRows(rows: LayerRows): void {
    this.rows = rows;
    if (this.step !== null) void this.load(this.step);
  }

  /** A step the user picked elsewhere (a heatmap column). */
  pick(step: number): void {
    this.userPicked = true;
    this.select(step);
  }

  private select(s: number): void {
    this.step = s;
    this.slider.value = String(s);
    this.on.select(s);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.load(s), LOAD_DELAY_MS);
  }

  private async load(s: number): Promise<void> {
    const my = ++this.req;
    try {
      const ps = await this.on.fetchStep(s);
      if (my === this.req && !this.destroyed) this.draw(ps);
    } catch (err) {
      if (my === this.req) this.stepLabel.textContent = (err as Error).message;
    }
  }

  private draw(ps: ProbeStepResponse): void {
    const rowsView = this.rows;
    const shown = (rowsView?.shown ?? ps.layers.map((_, i) => i)).filter((i) => i < ps.layers.length);
    const labels = shown.map((i) => rowsView?.label(i, ps.layers[i]) ?? ps.layers[i]);
    const val = (f: string): number[] => {
      const fi = ps.fields.indexOf(f);
      return fi < 0 ? labels.map(() => Number.NaN) : shown.map((i) => ps.values[i][fi]);
    };
    const naOf = (f: string): boolean[] => {
      const known = naLayers(this.probes, f);
      // Without a series for this field, treat an all-NaN layer at this step as n/a
      // unless the step itself was non-finite.
      return known.length ? shown.map((i) => known[i]) : val(f).map((v) => Number.isNaN(v));
    };
    this.actMax.setData(labels, val('act_max'), naOf('act_max'));
    this.dead.setData(labels, val('act_zero_frac'), naOf('act_zero_frac'));
    this.ratio.setData(labels, val('update_ratio'), naOf('update_ratio'));
    this.any.setData(labels, val(this.anyField), naOf(this.anyField));
    this.stepLabel.textContent = ps.step === ps.requested ? `step ${ps.step}` : `step ${ps.step} (nearest probe to ${ps.requested})`;
    this.on.stepData(ps);
    this.sec.dataset.step = String(ps.step);
  }

  destroy(): void {
    this.destroyed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const b of [this.actMax, this.dead, this.ratio, this.any]) b.destroy();
  }
}
