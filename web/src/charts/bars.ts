// Per-layer bar charts on uPlot (ordinal x = layer). NaN/±Inf bars are not
// drawn as bars but marked like the line charts do; layers where the field
// does not apply are left empty and labelled n/a in the legend value.

import uPlot from 'uplot';
import { h } from '../dom.js';
import { fmt } from '../format.js';
import { keepAll, logAxis, tickFmt } from './axes.js';
import { TROUBLE } from './colors.js';

export interface BarOptions {
  id: string;
  title: string;
  log?: boolean;
  yRange?: [number, number];
  color?: string;
  height?: number;
  refLines?: { y: number; label: string }[];
  /** What the x positions are (legend), default 'layer'; and the legend text for position i. */
  xName?: string;
  xText?: (i: number) => string;
  /** The labels are already sparse: draw every one (default: thin them to fit). */
  sparseLabels?: boolean;
}

export class BarChart {
  readonly el: HTMLDivElement;
  private readonly plotEl: HTMLDivElement;
  private u: uPlot | null = null;
  private labels: string[] = [];
  private raw: number[] = [];
  private na: boolean[] = [];
  private readonly ro: ResizeObserver;

  constructor(
    parent: HTMLElement,
    private readonly opts: BarOptions,
  ) {
    this.plotEl = h('div', { class: 'plot' });
    this.el = h('div', { class: 'chart bars', id: opts.id }, h('h3', {}, opts.title), this.plotEl);
    parent.append(this.el);
    this.ro = new ResizeObserver(() => {
      if (this.u && Math.abs(this.u.width - this.width()) > 2) this.u.setSize({ width: this.width(), height: this.height() });
    });
    this.ro.observe(this.el);
  }

  private width(): number {
    return Math.max(200, Math.floor(this.el.clientWidth || 400));
  }
  private height(): number {
    return this.opts.height ?? 200;
  }

  /** `na[l]`: the field does not apply to layer l (drawn empty, not as trouble). */
  setData(labels: string[], values: number[], na: boolean[] = []): void {
    const log = !!this.opts.log;
    const sameLabels = labels.length === this.labels.length && labels.every((l, i) => l === this.labels[i]);
    this.labels = labels;
    this.raw = values;
    this.na = na;
    const x = labels.map((_, i) => i);
    const y = values.map((v) => (!Number.isFinite(v) || (log && v <= 0) ? null : v));
    this.el.dataset.bars = String(y.filter((v) => v !== null).length);
    this.el.dataset.nonfinite = String(values.filter((v, i) => !Number.isFinite(v) && !na[i]).length);
    const data: uPlot.AlignedData = [x, y];
    if (!this.u || !sameLabels) {
      this.u?.destroy();
      this.u = new uPlot(this.options(), data, this.plotEl);
    } else {
      this.u.setData(data);
    }
  }

  private options(): uPlot.Options {
    const o = this.opts;
    const n = this.labels.length;
    const bars = uPlot.paths.bars?.({ size: [0.7, 40] });
    return {
      width: this.width(),
      height: this.height(),
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: false, range: [-0.5, Math.max(0.5, n - 0.5)] },
        y: { distr: o.log ? 3 : 1, ...(o.yRange ? { range: o.yRange } : {}) },
      },
      axes: [
        {
          size: 30,
          splits: () => this.labels.map((_, i) => i),
          // Thin the labels out when there are more layers than room (~16 px each).
          values: (u, splits) => {
            const every = o.sparseLabels ? 1 : Math.max(1, Math.ceil((this.labels.length * 16) / Math.max(1, u.bbox.width / devicePixelRatio)));
            return splits.map((i) => (i % every === 0 ? (this.labels[i] ?? '') : ''));
          },
          gap: 2,
        },
        { size: 64, values: tickFmt, ...(o.log ? { splits: logAxis, filter: keepAll } : {}) },
      ],
      series: [
        { label: o.xName ?? 'layer', value: (_u, v) => (v === null || v === undefined ? '–' : o.xText ? o.xText(v) : (this.labels[v] ?? '')) },
        {
          label: o.title,
          stroke: o.color ?? '#1f77b4',
          fill: `${o.color ?? '#1f77b4'}aa`,
          paths: bars,
          points: { show: false },
          ...(o.log ? { fillTo: (u: uPlot) => u.scales.y.min ?? 1 } : {}),
          value: (_u, _v, _si, idx) => {
            if (idx === null) return '–';
            if (this.na[idx]) return 'n/a';
            return fmt(this.raw[idx]);
          },
        },
      ],
      hooks: { draw: [(u) => this.decorate(u)] },
    };
  }

  private decorate(u: uPlot): void {
    const ctx = u.ctx;
    const dpr = devicePixelRatio;
    const { top, height } = u.bbox;
    ctx.save();
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (const r of this.opts.refLines ?? []) {
      const y = u.valToPos(r.y, 'y', true);
      if (!Number.isFinite(y) || y < top || y > top + height) continue;
      ctx.setLineDash([6, 4]);
      ctx.strokeStyle = '#999';
      ctx.lineWidth = dpr;
      ctx.beginPath();
      ctx.moveTo(u.bbox.left, y);
      ctx.lineTo(u.bbox.left + u.bbox.width, y);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    this.raw.forEach((v, i) => {
      const x = u.valToPos(i, 'x', true);
      if (this.na[i]) {
        ctx.fillStyle = '#aaa';
        ctx.font = `${9 * dpr}px sans-serif`;
        ctx.fillText('n/a', x, top + height - 8 * dpr);
      } else if (!Number.isFinite(v)) {
        ctx.fillStyle = TROUBLE;
        ctx.font = `bold ${11 * dpr}px sans-serif`;
        ctx.fillText(Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '−Inf', x, top + 10 * dpr);
        ctx.globalAlpha = 0.25;
        ctx.fillRect(x - 6 * dpr, top, 12 * dpr, height);
        ctx.globalAlpha = 1;
      }
    });
    ctx.restore();
  }

  destroy(): void {
    this.ro.disconnect();
    this.u?.destroy();
    this.el.remove();
  }
}
