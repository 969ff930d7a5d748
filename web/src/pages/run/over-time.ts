// Per-layer health over the probed steps: the dead fraction of the ReLUs (or, without ReLUs,
// of the other activations) and every layer's update/weight ratio, one line per layer shown.

import { seriesColor } from '../../charts/colors.js';
import { LineChart } from '../../charts/line.js';
import { panel } from '../../dom.js';
import type { ProbesResponse } from '../../source.js';
import type { LayerRows } from './layer-fold.js';
import { layerSeries, naLayers } from './probe-series.js';

const ACTIVATION_KINDS = /relu|elu|gelu|silu|sigmoid|tanh|softplus|mish/i;

export class OverTimePanel {
  private readonly dead: LineChart;
  private readonly ratio: LineChart;
  private readonly hasDead: boolean;
  private readonly hasRatio: boolean;

  constructor(parent: HTMLElement, fields: readonly string[]) {
    const [sec, body] = panel('Per-layer health over time', 'over-time');
    parent.append(sec);
    this.hasDead = fields.includes('act_zero_frac');
    this.hasRatio = fields.includes('update_ratio');
    this.dead = new LineChart(body, {
      id: 'chart-dead',
      xLabel: 'step',
      yLabel: 'dead fraction',
      yRange: [0, 1],
      height: 220,
      empty: this.hasDead ? 'no probes yet' : 'act_zero_frac not recorded',
    });
    this.ratio = new LineChart(body, {
      id: 'chart-ratio',
      xLabel: 'step',
      yLabel: 'update / weight',
      log: true,
      height: 220,
      refLines: [{ y: 1e-3, label: '≈1e-3 is healthy' }],
      empty: this.hasRatio ? 'no probes yet' : 'update_ratio not recorded',
    });
  }

  update(p: ProbesResponse, rows: LayerRows): void {
    const lines = (field: string, idx: number[]) =>
      idx.map((l, k) => ({ label: rows.label(l), values: layerSeries(p, field, l), color: seriesColor(k) }));
    if (this.hasDead) {
      const na = naLayers(p, 'act_zero_frac');
      const shown = new Set(rows.shown);
      const pickKinds = (re: RegExp): number[] =>
        p.kinds.map((k, i) => (re.test(k) && !na[i] && shown.has(i) ? i : -1)).filter((i) => i >= 0);
      let idx = pickKinds(/relu/i);
      if (!idx.length) idx = pickKinds(ACTIVATION_KINDS);
      this.dead.setData(p.steps, lines('act_zero_frac', idx));
    }
    if (this.hasRatio) {
      const na = naLayers(p, 'update_ratio');
      this.ratio.setData(p.steps, lines('update_ratio', rows.shown.filter((i) => !na[i])));
    }
  }

  destroy(): void {
    this.dead.destroy();
    this.ratio.destroy();
  }
}
