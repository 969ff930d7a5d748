// Number formatting that never hides trouble: NaN and ±Inf are spelled out. The exponent form
// and d2l's loss/accuracy numbers come from the one formatter the CLI and tables use.
import { d2lNum, expShort } from '../../src/diagnose/format.js';

export { d2lNum };

export function isBad(v: number | null | undefined): boolean {
  return typeof v === 'number' && !Number.isFinite(v);
}

export function fmt(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined) return '–';
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '−Inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return expShort(v, Math.max(0, digits - 2));
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(digits)));
}

export function pct(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  if (!Number.isFinite(v)) return fmt(v);
  return `${(v * 100).toFixed(1)}%`;
}

export function when(ms: number | null | undefined): string {
  if (!ms) return '–';
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Short text for a config value. */
export function short(v: unknown): string {
  if (v === undefined) return '–';
  if (typeof v === 'number') return fmt(v);
  if (typeof v === 'string') return v;
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s;
}
