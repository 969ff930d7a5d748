// Which layers the per-layer views show. Module trees list rows in execution order with
// blocks folded (click a block's label) so a deep net still fits; a folded block's row stands
// for everything below it. The page owns one LayerFold (the user's folding) and hands each
// panel the resulting LayerRows, so the heatmap, the bars and the over-time charts fold together.

import { LABEL_CHARS } from '../../charts/heatmap.js';
import type { HeatmapData } from '../../charts/heatmap.js';
import { containers, defaultCollapsed, fitLabel, visibleRows } from '../../layer-tree.js';
import type { RunDetailResponse } from '../../source.js';
import { asVerdict } from '../../verdict.js';

type HeatRow = NonNullable<HeatmapData['rows']>[number];

/** The rows to show and how to label them; a snapshot, rebuilt when the fold or the run changes. */
export interface LayerRows {
  /** Layer indices shown, top to bottom. */
  readonly shown: readonly number[];
  /** Layer i's label (fitted to the heatmap's label column); `fallback` where the run has no layer i. */
  label(i: number, fallback?: string): string;
  /** Layer i's tree decoration for the heatmap. */
  tree(i: number): HeatRow;
  /** Whether `name` is a folded block. */
  folded(name: string): boolean;
}

export class LayerFold {
  private collapsed: Set<string>;
  /** Layer count the fold was made for: a live run's layers may arrive after the page opened. */
  private foldedFor: number;

  constructor(detail: RunDetailResponse) {
    this.collapsed = defaultCollapsed(detail.layers);
    this.foldedFor = detail.layers.length;
  }

  /** Fold or unfold layer i if it is a block; returns whether anything changed. */
  toggle(detail: RunDetailResponse, i: number | undefined): boolean {
    const l = i === undefined ? undefined : detail.layers[i];
    if (!l || !containers(detail.layers).has(l.name)) return false;
    this.collapsed = new Set(this.collapsed);
    if (!this.collapsed.delete(l.name)) this.collapsed.add(l.name);
    return true;
  }

  /** `probeLayers`: the probes' layer count, the rows to show when the run recorded no layer tree. */
  rows(detail: RunDetailResponse, probeLayers: number): LayerRows {
    const layers = detail.layers;
    if (this.foldedFor !== layers.length) {
      this.collapsed = defaultCollapsed(layers);
      this.foldedFor = layers.length;
    }
    const collapsed = this.collapsed;
    const blocks = containers(layers);
    const verdict = asVerdict(detail.run.verdict);
    return {
      shown: layers.length ? visibleRows(layers, collapsed) : Array.from({ length: probeLayers }, (_, i) => i),
      label: (i, fallback) => {
        const l = layers[i];
        if (!l) return fallback ?? String(i);
        const alias = l.alias ?? verdict?.layers.find((v) => v.name === l.name)?.alias;
        return fitLabel({ ...l, alias }, LABEL_CHARS);
      },
      tree: (i) => {
        const m = layers[i];
        return {
          indent: Math.max(0, (m?.depth ?? 1) - 1),
          block: !!m && blocks.has(m.name),
          collapsed: !!m && collapsed.has(m.name),
          title: m ? `${m.name} ${m.kind}${m.alias ? ` ${m.alias}` : ''}` : String(i),
        };
      },
      folded: (name) => collapsed.has(name),
    };
  }
}
