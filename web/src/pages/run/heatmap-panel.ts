// Layer × step heatmap of one probe field (a gradient norm by default), the field picker, and
// the marks on it: NaN steps, the located layer, the step the bars show. A click on a column
// picks that step, on a block's label folds it: both go back to the page through callbacks.

import { Heatmap } from '../../charts/heatmap.js';
import { h, panel } from '../../dom.js';
import type { ProbesResponse } from '../../source.js';
import type { Locator } from '../../verdict.js';
import type { LayerRows } from './layer-fold.js';

const GRAD_FIELDS = ['grad_w_norm', 'grad_out_norm', 'grad_in_norm', 'grad_b_norm'];

export interface HeatmapPanelEvents {
  /** A column was clicked: the step to inspect. */
  pick(step: number): void;
  /** A row label was clicked: the layer (index into the run's layers) to fold or unfold. */
  toggle(layer: number | undefined): void;
  /** The field changed: its probes need fetching. */
  field(name: string): void;
}

export interface HeatmapView {
  probes: ProbesResponse;
  rows: LayerRows;
  nanSteps: number[];
  locator: Locator | null;
}

export class HeatmapPanel {
  readonly sec: HTMLElement;
  private readonly heatmap: Heatmap;
  private current: string;
  private shownRows: readonly number[] = [];
  private selected: number | null = null;

  constructor(parent: HTMLElement, fields: readonly string[], on: HeatmapPanelEvents) {
    let body: HTMLElement;
    [this.sec, body] = panel('Gradient norms per layer (log colour scale)', 'heat');
    parent.append(this.sec);
    const hasField = (f: string): boolean => fields.includes(f);
    this.current = GRAD_FIELDS.find(hasField) ?? fields[0] ?? '';
    const select = h('select', { id: 'heat-field' });
    for (const f of [...GRAD_FIELDS.filter(hasField), ...fields.filter((f) => !GRAD_FIELDS.includes(f))]) {
      select.append(h('option', { value: f, selected: f === this.current }, f));
    }
    select.addEventListener('change', () => {
      this.current = select.value;
      on.field(this.current);
    });
    body.append(
      h('div', { class: 'controls' }, h('label', {}, 'field ', select), h('span', { class: 'muted' }, ' click a column to inspect that step below')),
    );
    this.heatmap = new Heatmap(body, {
      id: 'heatmap',
      onPick: (s) => on.pick(s),
      onRowClick: (r) => on.toggle(this.shownRows[r]),
    });
    if (!fields.length) body.append(h('p', { class: 'muted' }, 'This run records no per-layer probes.'));
  }

  /** The field shown ('' when the run records none). */
  get field(): string {
    return this.current;
  }

  update({ probes: p, rows, nanSteps, locator }: HeatmapView): void {
    if (!this.current) return;
    const shown = rows.shown;
    this.shownRows = shown;
    const all = p.series[this.current] ?? [];
    const nl = p.layers.length;
    const values = new Float64Array(p.steps.length * shown.length);
    for (let i = 0; i < p.steps.length; i++) shown.forEach((l, r) => { values[i * shown.length + r] = all[i * nl + l]; });
    this.heatmap.setData({ steps: p.steps, labels: shown.map((l) => rows.label(l)), values, rows: shown.map((l) => rows.tree(l)) });
    // The located layer, or the folded block that stands for it.
    const at = locator?.layer;
    const row = at !== undefined && at !== null
      ? shown.findIndex((l) => { const n = p.layers[l]; return n === at || (rows.folded(n) && String(at).startsWith(`${n}.`)); })
      : -1;
    this.heatmap.setMarks(nanSteps, row >= 0 ? row : null);
    this.heatmap.setSelected(this.selected);
  }

  /** The step the bars show, outlined. */
  setSelected(step: number | null): void {
    this.selected = step;
    this.heatmap.setSelected(step);
  }

  setError(message: string): void {
    this.sec.dataset.error = message;
  }

  destroy(): void {
    this.heatmap.destroy();
  }
}
