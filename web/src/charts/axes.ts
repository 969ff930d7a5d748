// Axis helpers for uPlot: integer ticks for step/epoch axes, and log-scale
// ticks that stay readable over 30+ decades (exploding runs span that much).

import type uPlot from 'uplot';
import { fmt } from '../format.js';

export const INTEGER_INCRS: number[] = [];
for (let e = 0; e <= 9; e++) for (const m of [1, 2, 5]) INTEGER_INCRS.push(m * 10 ** e);

/** Tick values for a log axis between min and max, at least ~minSpacePx apart. */
export function logSplits(min: number, max: number, lengthPx: number, minSpacePx = 26): number[] {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max) || max < min) return [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const room = Math.max(2, Math.floor(lengthPx / minSpacePx));
  const decades = hi - lo;
  let out: number[] = [];
  if (decades <= 2) {
    for (let e = lo; e <= hi; e++) for (const m of [1, 2, 5]) out.push(m * 10 ** e);
    out = out.filter((v) => v >= min * 0.999 && v <= max * 1.001);
    if (out.length > room) out = out.filter((v) => Math.abs(Math.log10(v) % 1) < 1e-9);
  } else {
    const step = Math.max(1, Math.ceil(decades / room));
    for (let e = Math.ceil(lo / step) * step; e <= hi; e += step) {
      const v = 10 ** e;
      if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
    }
  }
  return out.length ? out : [min, max];
}

export function logAxis(u: uPlot, _axisIdx: number, min: number, max: number): number[] {
  return logSplits(min, max, u.bbox.height / devicePixelRatio);
}

/** Compact tick labels: 1e24, 5e-7 for round log ticks, fmt() otherwise. */
export function tick(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (v !== 0 && Number.isFinite(v)) {
    const e = Math.floor(Math.log10(Math.abs(v)));
    const m = v / 10 ** e;
    if ((e >= 5 || e <= -4) && [1, 2, 5].some((k) => Math.abs(Math.abs(m) - k) < 1e-6)) return `${Math.round(m)}e${e}`;
  }
  return fmt(v, 3);
}

export const tickFmt = (_u: uPlot, splits: number[]): string[] => splits.map(tick);

/** Keep every split we computed (uPlot's default log filter drops some). */
export const keepAll = (_u: uPlot, splits: number[]): number[] => splits;
