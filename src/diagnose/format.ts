// Number formatting for explanations: 3 significant digits, exponent form for big/small.
export function fmt(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Inf' : '-Inf';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(1).replace('e+', 'e');
  return String(+v.toPrecision(3));
}
/** Growth factor as "10^k" when large. */
export function growth(from: number, to: number): string {
  if (!(from > 0) || !Number.isFinite(to)) return to === Infinity ? 'to Inf' : '?';
  const r = to / from;
  return r >= 1e3 ? `10^${Math.round(Math.log10(r))}x` : `${fmt(r)}x`;
}
