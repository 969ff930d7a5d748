// Plain-text tables for the CLI: each column as wide as its widest cell (header included), so a
// long run id or verdict name never pushes the columns after it out of line.
export type Align = 'left' | 'right';

/** Columns joined by two spaces; with rule, a line of dashes under the header. */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[], opts: { rule?: boolean } = {}): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (x: readonly string[]) => x.map((c, i) => (align[i] === 'right' ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ').trimEnd();
  return [line(head), ...(opts.rule ? [line(w.map((n) => '-'.repeat(n)))] : []), ...rows.map(line)].join('\n');
}
