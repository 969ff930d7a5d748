// SQLite stores a bound NaN as NULL, so a NaN loss would be indistinguishable
// from a missing one. Rows with NaN-capable REAL columns therefore carry a
// `nan_mask` INTEGER: bit i set means column i holds NaN (stored as NULL).
// Keeping the columns REAL (rather than text) keeps MIN/MAX/AVG usable in SQL.
// ±Infinity needs no help: SQLite stores it as a REAL.

export interface Packed {
  values: (number | null)[];
  mask: number;
}

export function packNaN(values: readonly (number | null | undefined)[]): Packed {
  if (values.length > 31) throw new Error('nan mask supports at most 31 columns');
  let mask = 0;
  const out: (number | null)[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === undefined || v === null) {
      out[i] = null;
    } else if (Number.isNaN(v)) {
      out[i] = null;
      mask |= 1 << i;
    } else {
      out[i] = v;
    }
  }
  return { values: out, mask };
}

/** Value of column `bit` as read from SQLite, with NaN restored. */
export function unpackNaN(value: number | null, mask: number, bit: number): number | null {
  if (value === null && (mask & (1 << bit)) !== 0) return Number.NaN;
  return value;
}
