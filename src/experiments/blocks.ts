// Generated blocks in a hand-edited markdown document (docs/RESULTS.md, docs/PERFORMANCE.md):
// a block is whatever lies between its BEGIN and END markers, so a command that regenerates it
// replaces only that block and the hand-written text around it survives.

export const beginMark = (key: string): string => `<!-- BEGIN generated: ${key} -->`;
export const endMark = (key: string): string => `<!-- END generated: ${key} -->`;

/** The block's markers around its body, as it is written into the document. */
export const generatedBlock = (key: string, body: string): string => `${beginMark(key)}\n${body}\n${endMark(key)}`;

/** The doc with key's block holding body instead, or null when the doc has no such block. */
export function replaceGenerated(doc: string, key: string, body: string): string | null {
  const b = beginMark(key), e = endMark(key);
  const i = doc.indexOf(b), j = doc.indexOf(e, i);
  if (i < 0 || j < 0) return null;
  return doc.slice(0, i) + generatedBlock(key, body) + doc.slice(j + e.length);
}

/** The body of key's block (without its markers), or null when the doc has none. */
export function readGenerated(doc: string, key: string): string | null {
  const b = beginMark(key), e = endMark(key);
  const i = doc.indexOf(b), j = doc.indexOf(e, i);
  return i < 0 || j < 0 ? null : doc.slice(i + b.length + 1, j - 1);
}
