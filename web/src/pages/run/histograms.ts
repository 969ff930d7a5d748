// |x| per layer on a log scale (two octaves per bar): explosion shows as mass drifting to the
// right and into NaN/Inf, vanishing as early layers' gradients sitting far left of late ones'.
// Shows the step the bars show (the page hands it each step's data); owns the layer picker.

import { BarChart } from '../../charts/bars.js';
import { h, panel } from '../../dom.js';
import { fmt } from '../../format.js';
import type { ProbeStepResponse } from '../../source.js';

type Hist = ProbeStepResponse['hist'];

/** The bins between the smallest and largest non-empty ones of either histogram, then 0 and NaN/Inf. */
function shownBins(rs: (number[] | null)[], mags: number): { bins: number[]; span: number } {
  let lo = mags, hi = -1;
  for (const r of rs) if (r) for (let b = 0; b < mags; b++) if (r[b] > 0) { lo = Math.min(lo, b); hi = Math.max(hi, b); }
  if (hi < 0) { lo = 0; hi = -1; }
  return { bins: [...Array.from({ length: hi - lo + 1 }, (_, k) => lo + k), mags, mags + 1], span: hi - lo + 1 };
}

export class HistogramsPanel {
  private readonly sec: HTMLElement;
  private readonly layer = h('select', { id: 'hist-layer' });
  private readonly label = h('span', { class: 'step-label', id: 'hist-step-label' }, 'no histograms recorded yet');
  private readonly act: BarChart;
  private readonly grad: BarChart;
  /** Hover text per bar of the current step (the axis labels are thinned). */
  private binText: string[] = [];
  private hist: Hist = null;
  private kinds: string[] = [];

  constructor(parent: HTMLElement) {
    let body: HTMLElement;
    [this.sec, body] = panel('Histograms at one step', 'histograms');
    parent.append(this.sec);
    body.append(h('div', { class: 'controls' }, h('label', {}, 'layer ', this.layer), this.label,
      h('span', { class: 'muted' }, ' fraction of elements per |x| bin (log); the step follows the slider above')));
    const grid = h('div', { class: 'bar-grid' });
    body.append(grid);
    const opts = { log: true, xName: '|x|', xText: (i: number) => this.binText[i] ?? '', sparseLabels: true };
    this.act = new BarChart(grid, { id: 'hist-act', title: '|activation| (layer output)', color: '#1f77b4', ...opts });
    this.grad = new BarChart(grid, { id: 'hist-grad', title: '|gradient| at the layer output', color: '#d62728', ...opts });
    this.layer.addEventListener('change', () => this.draw());
  }

  /** The histograms of the bars' step (null: none recorded at or before it). */
  show(hist: Hist, kinds: string[]): void {
    this.hist = hist;
    this.kinds = kinds;
    this.draw();
  }

  private draw(): void {
    const hs = this.hist;
    this.sec.dataset.step = hs ? String(hs.step) : '';
    if (!hs) {
      this.label.textContent = 'no histograms at or before this step (recorded every --hist-every probed steps)';
      this.act.setData([], []);
      this.grad.setData([], []);
      return;
    }
    if (this.layer.options.length !== hs.layers.length) {
      const keep = this.layer.value;
      this.layer.replaceChildren(...hs.layers.map((name, l) => h('option', { value: String(l) }, `${name} ${this.kinds[l] ?? ''}`)));
      this.layer.value = keep && Number(keep) < hs.layers.length ? keep : String(Math.max(0, hs.act.findIndex((r) => r !== null)));
    }
    const l = Number(this.layer.value);
    const mags = hs.lower.length;
    const a = hs.act[l], g = hs.grad[l];
    const { bins, span } = shownBins([a, g], mags);
    // Each bar spans a factor of 4; label the bars holding a power of ten, thinned to ~10 labels.
    const decadeIn = (b: number): number | null => {
      const k = Math.ceil(Math.log10(hs.lower[b]) - 1e-9);
      return 10 ** k < hs.lower[b] * 4 ? k : null;
    };
    const every = Math.max(1, Math.ceil(span * Math.log10(4) / 10));
    const labels = bins.map((b) => {
      if (b === mags) return '0';
      if (b === mags + 1) return 'NaN/Inf';
      const k = decadeIn(b);
      return k !== null && k % every === 0 ? `1e${k}` : '';
    });
    this.binText = bins.map((b) => (b === mags ? 'exactly 0' : b === mags + 1 ? 'NaN or ±Inf' : `${fmt(hs.lower[b], 3)} – ${fmt(hs.lower[b] * 4, 3)}`));
    const frac = (r: number[] | null): number[] => {
      if (!r) return bins.map(() => Number.NaN);
      const total = r.reduce((x, y) => x + y, 0) || 1;
      return bins.map((b) => r[b] / total);
    };
    this.act.setData(labels, frac(a), a ? [] : bins.map(() => true));
    this.grad.setData(labels, frac(g), g ? [] : bins.map(() => true));
    const nonfin = (r: number[] | null): number => (r ? r[mags + 1] : 0);
    this.label.textContent = `step ${hs.step}` + (nonfin(a) + nonfin(g) > 0 ? ` · ${nonfin(a) + nonfin(g)} NaN/Inf elements` : '');
  }

  destroy(): void {
    this.act.destroy();
    this.grad.destroy();
  }
}
