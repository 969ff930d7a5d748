// Number formatting, one place for every surface (CLI lines, tables, explanations, dashboard):
// the web bundle imports this file too, so it stays free of imports.

/** Exponent form without JavaScript's '+': 4.71e34, 5.0e-7. */
export function expShort(v: number, digits: number): string {
  return v.toExponential(digits).replace('e+', 'e');
}

/** Above this a 3-decimal number is unreadable (4708493057787579e19.000): exponent form instead. */
const HUGE = 1e5;

/**
 * A loss or accuracy as d2l prints it: 3 decimals (2.481, 0.100); huge magnitudes in short
 * exponent form (4.71e34); nan and inf as Python prints them; '-' for no value.
 */
export function d2lNum(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return Math.abs(v) >= HUGE ? expShort(v, 2) : v.toFixed(3);
}

/** d2l's end-of-training line: `loss 0.471, train acc 0.827, test acc 0.813`. */
export function d2lLine(loss: number | null, trainAcc: number | null, testAcc: number | null): string {
  return `loss ${d2lNum(loss)}, train acc ${d2lNum(trainAcc)}, test acc ${d2lNum(testAcc)}`;
}

/** Numbers inside explanations: 3 significant digits, exponent form for big/small. */
export function fmt(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Inf' : '-Inf';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return expShort(v, 1);
  return String(+v.toPrecision(3));
}
/** Growth factor as "10^k" when large. */
export function growth(from: number, to: number): string {
  if (!(from > 0) || !Number.isFinite(to)) return to === Infinity ? 'to Inf' : '?';
  const r = to / from;
  return r >= 1e3 ? `10^${Math.round(Math.log10(r))}x` : `${fmt(r)}x`;
}
