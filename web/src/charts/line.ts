// Line charts on uPlot. Non-finite values never reach uPlot: they become gaps
// (the line breaks) and are drawn as markers on the top edge (× NaN, ▲ +Inf,
// ▼ −Inf); the legend still shows the real value. Optional clickable markers
// (HTML buttons over the plot) point at steps of interest, e.g. the first NaN.

import uPlot from 'uplot';
import { h } from '../dom.js';
import { fmt } from '../format.js';
import { INTEGER_INCRS, keepAll, logAxis, tickFmt } from './axes.js';
import { TROUBLE, seriesColor } from './colors.js';

export interface LineSeries {
  label: string;
  values: ArrayLike<number | null | undefined>;
  color?: string;
  width?: number;
  dash?: number[];
  points?: boolean;
}

export interface ChartMarker {
  x: number;
  label: string;
  title?: string;
  cls?: string;
  onClick?: () => void;
}

export interface LineOptions {
  id: string;
  xLabel: string;
  yLabel?: string;
  log?: boolean;
  height?: number;
  /** Fixed y range (e.g. [0, 1] for accuracies). */
  yRange?: [number, number];
  /** Dashed horizontal reference lines. */
  refLines?: { y: number; label: string }[];
  /** uPlot cursor sync group. */
  sync?: string;
  empty?: string;
  /** x is a step/epoch count: integer ticks only (default true). */
  integerX?: boolean;
}

// undefined = no sample at this x (the line spans it, e.g. when several runs'
// steps are merged); null or non-finite = a real gap (the line breaks).
function clean(values: ArrayLike<number | null | undefined>, log: boolean): (number | null | undefined)[] {
  const out = new Array<number | null | undefined>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v === undefined ? undefined : v === null || !Number.isFinite(v) || (log && v <= 0) ? null : v;
  }
  return out;
}

export class LineChart {
  readonly el: HTMLDivElement;
  private readonly plotEl: HTMLDivElement;
  private readonly emptyEl: HTMLDivElement;
  private u: uPlot | null = null;
  private signature = '';
  private raw: ArrayLike<number | null | undefined>[] = [];
  private x: number[] = [];
  private markers: ChartMarker[] = [];
  private markerEls: HTMLButtonElement[] = [];
  private zoomed = false;
  private readonly ro: ResizeObserver;

  constructor(
    parent: HTMLElement,
    private readonly opts: LineOptions,
  ) {
    this.plotEl = h('div', { class: 'plot' });
    this.emptyEl = h('div', { class: 'empty muted' }, opts.empty ?? 'no data yet');
    this.el = h('div', { class: 'chart', id: opts.id, 'data-points': 0 }, this.plotEl, this.emptyEl);
    parent.append(this.el);
    this.ro = new ResizeObserver(() => this.resize());
    this.ro.observe(this.el);
  }

  private width(): number {
    return Math.max(240, Math.floor(this.el.clientWidth || 600));
  }

  private resize(): void {
    if (this.u && Math.abs(this.u.width - this.width()) > 2) {
      this.u.setSize({ width: this.width(), height: this.opts.height ?? 240 });
    }
  }

  setData(x: number[], series: LineSeries[]): void {
    this.x = x;
    this.raw = series.map((s) => s.values);
    const log = !!this.opts.log;
    const data = [x, ...series.map((s) => clean(s.values, log))] as uPlot.AlignedData;
    const finite = data.slice(1).reduce((n, col) => n + (col as (number | null | undefined)[]).filter((v) => v !== null && v !== undefined).length, 0);
    const bad = series.reduce((n, s) => {
      let k = 0;
      for (let i = 0; i < s.values.length; i++) {
        const v = s.values[i];
        if (typeof v === 'number' && !Number.isFinite(v)) k++;
      }
      return n + k;
    }, 0);
    this.el.dataset.points = String(x.length);
    this.el.dataset.finite = String(finite);
    this.el.dataset.nonfinite = String(bad);
    this.emptyEl.hidden = x.length > 0;
    const sig = series.map((s) => `${s.label}|${s.color ?? ''}`).join('\n');
    if (!this.u || sig !== this.signature) {
      this.signature = sig;
      this.u?.destroy();
      this.u = new uPlot(this.options(series), data, this.plotEl);
      this.zoomed = false;
      this.syncMarkers();
    } else {
      this.u.setData(data, !this.zoomed);
    }
  }

  /** Switch between linear and log y (rebuilds the plot). */
  setLog(log: boolean): void {
    if (!!this.opts.log === log) return;
    this.opts.log = log;
    this.signature = '';
    this.el.dataset.log = log ? '1' : '0';
  }

  get log(): boolean {
    return !!this.opts.log;
  }

  setMarkers(markers: ChartMarker[]): void {
    this.markers = markers;
    this.syncMarkers();
  }

  private syncMarkers(): void {
    for (const m of this.markerEls) m.remove();
    this.markerEls = [];
    if (!this.u) return;
    for (const m of this.markers) {
      const b = h(
        'button',
        { type: 'button', class: `chart-marker ${m.cls ?? ''}`.trim(), title: m.title ?? m.label, 'data-x': m.x },
        m.label,
      );
      if (m.onClick) b.addEventListener('click', m.onClick);
      this.u.over.append(b);
      this.markerEls.push(b);
    }
    this.placeMarkers();
  }

  private placeMarkers(): void {
    const u = this.u;
    if (!u) return;
    this.markerEls.forEach((b, i) => {
      const left = u.valToPos(this.markers[i].x, 'x');
      const visible = Number.isFinite(left) && left >= -1 && left <= u.over.clientWidth + 1;
      b.style.left = `${left}px`;
      b.hidden = !visible;
    });
  }

  private options(series: LineSeries[]): uPlot.Options {
    const o = this.opts;
    const log = !!o.log;
    const raw = (): ArrayLike<number | null | undefined>[] => this.raw;
    const opts: uPlot.Options = {
      width: this.width(),
      height: o.height ?? 240,
      cursor: { sync: o.sync ? { key: o.sync } : undefined, drag: { x: true, y: false } },
      scales: {
        // A single point would otherwise get uPlot's default 0..100 span.
        x: { time: false, range: (_u, min, max) => (min === max ? [min - 1, max + 1] : [min, max]) },
        y: {
          distr: log ? 3 : 1,
          ...(o.yRange ? { range: o.yRange } : {}),
        },
      },
      axes: [
        { label: o.xLabel, size: 40, ...(o.integerX === false ? {} : { incrs: INTEGER_INCRS }) },
        { label: o.yLabel, size: 72, values: tickFmt, ...(log ? { splits: logAxis, filter: keepAll } : {}) },
      ],
      legend: { live: true },
      series: [
        { label: o.xLabel, value: (_u, v) => (v === null || v === undefined ? '–' : fmt(v)) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.color ?? seriesColor(i),
          width: s.width ?? 1.5,
          dash: s.dash,
          spanGaps: false,
          points: { show: s.points ?? false, size: 5 },
          value: (_u: uPlot, _v: number | null, si: number, idx: number | null) =>
            idx === null ? '–' : fmt(raw()[si - 1]?.[idx] ?? null),
        })),
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width > 0) this.zoomed = true;
          },
        ],
        draw: [
          (u) => {
            this.drawRefLines(u);
            this.drawNonfinite(u);
            this.placeMarkers();
          },
        ],
      },
    };
    return opts;
  }

  private drawRefLines(u: uPlot): void {
    const refs = this.opts.refLines ?? [];
    if (!refs.length) return;
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = '#999';
    ctx.fillStyle = '#777';
    ctx.lineWidth = devicePixelRatio;
    ctx.font = `${11 * devicePixelRatio}px sans-serif`;
    for (const r of refs) {
      const y = u.valToPos(r.y, 'y', true);
      if (!Number.isFinite(y) || y < top || y > top + height) continue;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + width, y);
      ctx.stroke();
      ctx.fillText(r.label, left + 4 * devicePixelRatio, y - 3 * devicePixelRatio);
    }
    ctx.restore();
  }

  private drawNonfinite(u: uPlot): void {
    const ctx = u.ctx;
    const { top, height, left, width } = u.bbox;
    const dpr = devicePixelRatio;
    ctx.save();
    ctx.font = `bold ${12 * dpr}px sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    this.raw.forEach((vals, si) => {
      const color = (u.series[si + 1]?.stroke as string | undefined) ?? TROUBLE;
      for (let i = 0; i < vals.length; i++) {
        const v = vals[i];
        if (typeof v !== 'number' || Number.isFinite(v)) continue;
        const x = u.valToPos(this.x[i], 'x', true);
        if (x < left - 1 || x > left + width + 1) continue;
        const y = v === Number.NEGATIVE_INFINITY ? top + height - 7 * dpr : top + 7 * dpr;
        ctx.strokeStyle = TROUBLE;
        ctx.globalAlpha = 0.35;
        ctx.lineWidth = dpr;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
        ctx.globalAlpha = 1;
        ctx.fillStyle = TROUBLE;
        ctx.fillText(Number.isNaN(v) ? '×' : v > 0 ? '▲' : '▼', x, y);
        ctx.fillStyle = color;
        ctx.fillRect(x - 2 * dpr, top + height - 2 * dpr, 4 * dpr, 2 * dpr);
      }
    });
    ctx.restore();
  }

  destroy(): void {
    this.ro.disconnect();
    this.u?.destroy();
    this.u = null;
    this.el.remove();
  }
}
