// Layer × step heatmap on a canvas (uPlot does not do heatmaps). Log colour
// scale (viridis) over the finite positive values; NaN, +Inf, −Inf and exact
// zeros get their own colours; a layer whose field is NaN at every step
// ("not applicable", e.g. grad_w_norm of a ReLU) is drawn hatched grey and
// labelled n/a rather than as a NaN event.

import { h } from '../dom.js';
import { fmt } from '../format.js';
import { SPECIAL, rgb, viridis } from './colors.js';

export interface HeatmapData {
  steps: number[];
  /** Row labels, one per layer, top to bottom. */
  labels: string[];
  /** Row-major steps × layers: values[i * labels.length + l]. */
  values: ArrayLike<number>;
  /** Per row, for module trees: indentation (tree depth), and whether it is a block that folds. */
  rows?: { indent: number; block: boolean; collapsed: boolean; title: string }[];
}

export interface HeatmapOptions {
  id: string;
  rowHeight?: number;
  onPick?: (step: number) => void;
  /** A row label was clicked (the run page folds or unfolds that block). */
  onRowClick?: (row: number) => void;
}

const LEFT = 150;
/** Characters of a row label that fit LEFT at the label font (callers fit their labels to it). */
export const LABEL_CHARS = 24;
const BOTTOM = 26;
const TOP = 6;
const RIGHT = 10;

export function classify(values: ArrayLike<number>, nl: number, ns: number): { na: boolean[]; lo: number; hi: number } {
  const na = new Array<boolean>(nl).fill(true);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < ns; i++) {
    for (let l = 0; l < nl; l++) {
      const v = values[i * nl + l];
      if (!Number.isNaN(v)) na[l] = false;
      if (Number.isFinite(v) && v > 0) {
        const g = Math.log10(v);
        if (g < lo) lo = g;
        if (g > hi) hi = g;
      }
    }
  }
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  } else if (hi - lo < 1e-6) {
    lo -= 0.5;
    hi += 0.5;
  }
  return { na, lo, hi };
}

export class Heatmap {
  readonly el: HTMLDivElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly legend: HTMLCanvasElement;
  private readonly legendLabels: HTMLDivElement;
  private readonly tip: HTMLDivElement;
  private data: HeatmapData = { steps: [], labels: [], values: [] };
  private na: boolean[] = [];
  private lo = 0;
  private hi = 1;
  private selected: number | null = null;
  private marks: number[] = [];
  private highlightRow: number | null = null;
  private readonly ro: ResizeObserver;

  constructor(
    parent: HTMLElement,
    private readonly opts: HeatmapOptions,
  ) {
    this.canvas = h('canvas', { class: 'heatmap-canvas', id: `${opts.id}-canvas` });
    this.legend = h('canvas', { class: 'legend-bar', width: 240, height: 14 });
    this.legendLabels = h('div', { class: 'legend-ticks' });
    this.tip = h('div', { class: 'tip', hidden: true });
    const swatch = (c: readonly number[], label: string, hatch = false): HTMLElement =>
      h('span', { class: 'swatch' }, h('i', { class: hatch ? 'hatch' : '', style: `background:${rgb(c)}` }), label);
    this.el = h(
      'div',
      { class: 'heatmap', id: opts.id, 'data-layers': 0, 'data-steps': 0 },
      h('div', { class: 'heatmap-wrap' }, this.canvas, this.tip),
      h(
        'div',
        { class: 'legend' },
        h('div', { class: 'legend-scale' }, this.legend, this.legendLabels),
        swatch(SPECIAL.nan, 'NaN'),
        swatch(SPECIAL.posInf, '+Inf'),
        swatch(SPECIAL.negInf, '−Inf'),
        swatch(SPECIAL.zero, '0'),
        swatch(SPECIAL.na, 'n/a (field does not apply)', true),
      ),
    );
    parent.append(this.el);
    this.canvas.addEventListener('mousemove', (e) => this.hover(e));
    this.canvas.addEventListener('mouseleave', () => {
      this.tip.hidden = true;
    });
    this.canvas.addEventListener('click', (e) => {
      const row = this.labelAt(e);
      if (row !== null) {
        this.opts.onRowClick?.(row);
        return;
      }
      const cell = this.cellAt(e);
      if (cell && this.opts.onPick) this.opts.onPick(this.data.steps[cell.col]);
    });
    this.ro = new ResizeObserver(() => this.draw());
    this.ro.observe(this.el);
  }

  setData(d: HeatmapData): void {
    this.data = d;
    const c = classify(d.values, d.labels.length, d.steps.length);
    this.na = c.na;
    this.lo = c.lo;
    this.hi = c.hi;
    let nan = 0;
    let inf = 0;
    for (let i = 0; i < d.steps.length; i++) {
      for (let l = 0; l < d.labels.length; l++) {
        const v = d.values[i * d.labels.length + l];
        if (this.na[l]) continue;
        if (Number.isNaN(v)) nan++;
        else if (!Number.isFinite(v)) inf++;
      }
    }
    Object.assign(this.el.dataset, {
      layers: String(d.labels.length),
      steps: String(d.steps.length),
      nanCells: String(nan),
      infCells: String(inf),
      naRows: String(this.na.filter(Boolean).length),
    });
    this.draw();
  }

  setSelected(step: number | null): void {
    this.selected = step;
    this.draw();
  }

  setMarks(steps: number[], row: number | null = null): void {
    this.marks = steps;
    this.highlightRow = row;
    this.draw();
  }

  color(v: number, l: number): readonly number[] {
    if (this.na[l]) return SPECIAL.na;
    if (Number.isNaN(v)) return SPECIAL.nan;
    if (v === Number.POSITIVE_INFINITY) return SPECIAL.posInf;
    if (v === Number.NEGATIVE_INFINITY) return SPECIAL.negInf;
    if (v <= 0) return SPECIAL.zero;
    return viridis((Math.log10(v) - this.lo) / (this.hi - this.lo));
  }

  private geometry(): { w: number; hgt: number; pw: number; ph: number; rowH: number } {
    const nl = Math.max(1, this.data.labels.length);
    const rowH = this.opts.rowHeight ?? (nl > 24 ? 12 : 18);
    const w = Math.max(300, Math.floor(this.el.clientWidth || 800));
    const ph = rowH * nl;
    return { w, hgt: TOP + ph + BOTTOM, pw: w - LEFT - RIGHT, ph, rowH };
  }

  private cellAt(e: MouseEvent): { col: number; row: number } | null {
    const r = this.canvas.getBoundingClientRect();
    const { pw, rowH } = this.geometry();
    const x = e.clientX - r.left - LEFT;
    const y = e.clientY - r.top - TOP;
    const ns = this.data.steps.length;
    const nl = this.data.labels.length;
    if (x < 0 || y < 0 || x >= pw || ns === 0) return null;
    const col = Math.min(ns - 1, Math.floor((x / pw) * ns));
    const row = Math.floor(y / rowH);
    if (row >= nl) return null;
    return { col, row };
  }

  /** The row whose label is under the pointer, or null. */
  private labelAt(e: MouseEvent): number | null {
    const r = this.canvas.getBoundingClientRect();
    const { rowH } = this.geometry();
    const x = e.clientX - r.left;
    const row = Math.floor((e.clientY - r.top - TOP) / rowH);
    return x >= 0 && x < LEFT && row >= 0 && row < this.data.labels.length ? row : null;
  }

  private hover(e: MouseEvent): void {
    const label = this.labelAt(e);
    if (label !== null && this.data.rows) {
      const row = this.data.rows[label];
      this.tip.textContent = row.block ? `${row.title} · click to ${row.collapsed ? 'unfold' : 'fold'} this block` : row.title;
      this.tip.hidden = false;
      const r = this.canvas.getBoundingClientRect();
      this.tip.style.left = `${e.clientX - r.left + 12}px`;
      this.tip.style.top = `${e.clientY - r.top + 12}px`;
      return;
    }
    const cell = this.cellAt(e);
    if (!cell) {
      this.tip.hidden = true;
      return;
    }
    const nl = this.data.labels.length;
    const v = this.data.values[cell.col * nl + cell.row];
    this.tip.textContent = `layer ${this.data.rows?.[cell.row]?.title ?? this.data.labels[cell.row]} · step ${this.data.steps[cell.col]} · ${
      this.na[cell.row] ? 'n/a' : fmt(v)
    }`;
    this.tip.hidden = false;
    const r = this.canvas.getBoundingClientRect();
    this.tip.style.left = `${Math.min(e.clientX - r.left + 12, r.width - 220)}px`;
    this.tip.style.top = `${e.clientY - r.top + 12}px`;
  }

  private stepToX(step: number, pw: number): number | null {
    const s = this.data.steps;
    if (!s.length) return null;
    let i = 0;
    while (i < s.length - 1 && s[i + 1] <= step) i++;
    return LEFT + ((i + 0.5) / s.length) * pw;
  }

  draw(): void {
    const { w, hgt, pw, ph, rowH } = this.geometry();
    const dpr = window.devicePixelRatio || 1;
    const cv = this.canvas;
    cv.style.width = `${w}px`;
    cv.style.height = `${hgt}px`;
    cv.width = Math.round(w * dpr);
    cv.height = Math.round(hgt * dpr);
    const ctx = cv.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    const { steps, labels, values } = this.data;
    const ns = steps.length;
    const nl = labels.length;
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#333';
    labels.forEach((lab, l) => {
      ctx.fillStyle = l === this.highlightRow ? '#e0145a' : this.na[l] ? '#999' : '#333';
      ctx.textAlign = 'right';
      const row = this.data.rows?.[l];
      // A block's row carries its fold marker; rows indent by tree depth (right-aligned labels
      // step left as they nest, so a block's members read as a group above its row).
      const text = row?.block ? `${row.collapsed ? '▸' : '▾'} ${lab}` : lab;
      ctx.fillText(text, LEFT - 6 - 6 * Math.min(3, row?.indent ?? 0), TOP + l * rowH + rowH / 2, LEFT - 10);
    });
    if (ns > 0 && nl > 0) {
      // One pixel per cell, scaled up without smoothing: fast for any size.
      const img = new ImageData(ns, nl);
      for (let i = 0; i < ns; i++) {
        for (let l = 0; l < nl; l++) {
          const c = this.color(values[i * nl + l], l);
          const o = (l * ns + i) * 4;
          img.data[o] = c[0];
          img.data[o + 1] = c[1];
          img.data[o + 2] = c[2];
          img.data[o + 3] = 255;
        }
      }
      const off = document.createElement('canvas');
      off.width = ns;
      off.height = nl;
      off.getContext('2d')?.putImageData(img, 0, 0);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(off, LEFT, TOP, pw, ph);
      // Hatch the not-applicable rows.
      ctx.save();
      ctx.strokeStyle = 'rgba(0,0,0,0.18)';
      ctx.lineWidth = 1;
      this.na.forEach((na, l) => {
        if (!na) return;
        const y0 = TOP + l * rowH;
        ctx.save();
        ctx.beginPath();
        ctx.rect(LEFT, y0, pw, rowH);
        ctx.clip();
        for (let x = LEFT - rowH; x < LEFT + pw; x += 8) {
          ctx.beginPath();
          ctx.moveTo(x, y0 + rowH);
          ctx.lineTo(x + rowH, y0);
          ctx.stroke();
        }
        ctx.restore();
        ctx.fillStyle = '#888';
        ctx.textAlign = 'left';
        ctx.fillText('n/a', LEFT + 4, y0 + rowH / 2);
      });
      ctx.restore();
      if (this.highlightRow !== null && this.highlightRow < nl) {
        ctx.strokeStyle = '#e0145a';
        ctx.lineWidth = 2;
        ctx.strokeRect(LEFT + 1, TOP + this.highlightRow * rowH + 1, pw - 2, rowH - 2);
      }
      for (const m of this.marks) {
        const x = this.stepToX(m, pw);
        if (x === null) continue;
        ctx.strokeStyle = '#e0145a';
        ctx.setLineDash([4, 3]);
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(x, TOP);
        ctx.lineTo(x, TOP + ph);
        ctx.stroke();
        ctx.setLineDash([]);
      }
      if (this.selected !== null) {
        const x = this.stepToX(this.selected, pw);
        if (x !== null) {
          ctx.strokeStyle = '#fff';
          ctx.lineWidth = 3;
          ctx.strokeRect(x - 2, TOP, 4, ph);
          ctx.strokeStyle = '#000';
          ctx.lineWidth = 1;
          ctx.strokeRect(x - 2, TOP, 4, ph);
        }
      }
      // Step ticks along the bottom.
      ctx.fillStyle = '#555';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      const ticks = Math.max(2, Math.min(8, Math.floor(pw / 90)));
      for (let k = 0; k < ticks; k++) {
        const i = Math.round((k * (ns - 1)) / (ticks - 1));
        const x = LEFT + ((i + 0.5) / ns) * pw;
        ctx.fillText(String(steps[i]), x, TOP + ph + 6);
      }
      ctx.textAlign = 'right';
      ctx.fillText('step →', LEFT - 6, TOP + ph + 6);
    } else {
      ctx.fillStyle = '#888';
      ctx.textAlign = 'left';
      ctx.fillText('no probes recorded yet', LEFT, TOP + 10);
    }
    this.drawLegend();
  }

  private drawLegend(): void {
    const cv = this.legend;
    const ctx = cv.getContext('2d');
    if (!ctx) return;
    for (let x = 0; x < cv.width; x++) {
      ctx.fillStyle = rgb(viridis(x / (cv.width - 1)));
      ctx.fillRect(x, 0, 1, cv.height);
    }
    const lo = this.lo;
    const hi = this.hi;
    const ticks = [lo, (lo + hi) / 2, hi].map((g) => fmt(10 ** g, 2));
    this.legendLabels.replaceChildren(...ticks.map((t) => h('span', {}, t)));
    this.legendLabels.title = `log10 colour scale from ${fmt(10 ** lo)} to ${fmt(10 ** hi)}`;
  }

  destroy(): void {
    this.ro.disconnect();
    this.el.remove();
  }
}
