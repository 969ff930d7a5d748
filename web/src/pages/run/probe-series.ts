// Reading the probes' flat series (series[field][i * layers + l]) per layer.

import type { ProbesResponse } from '../../source.js';

/** Per layer: true where `field` is NaN at every probed step, i.e. does not apply to it. */
export function naLayers(p: ProbesResponse | null, field: string): boolean[] {
  const s = p?.series[field];
  if (!p || !s) return [];
  const nl = p.layers.length;
  const out = new Array<boolean>(nl).fill(true);
  for (let i = 0; i < s.length; i++) if (!Number.isNaN(s[i])) out[i % nl] = false;
  return out;
}

/** Layer l's values of `field` over the probed steps. */
export function layerSeries(p: ProbesResponse, field: string, l: number): number[] {
  const s = p.series[field];
  if (!s) return [];
  const nl = p.layers.length;
  return p.steps.map((_, i) => s[i * nl + l]);
}
