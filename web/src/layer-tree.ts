// Layers of a module tree as the run page shows them: rows in execution order (the stored
// order), a container's row after its children's, collapsible by block (a collapsed container
// hides everything below it and stands for it), and labels that fit: the last path segments
// are kept, the front of a long path elided.
export interface TreeLayer { name: string; kind: string; parent?: string; depth?: number; alias?: string | null }

const parentOf = (l: TreeLayer): string => l.parent ?? (l.name.includes('.') ? l.name.slice(0, l.name.lastIndexOf('.')) : '');

/** Paths that are some layer's parent: the blocks that can be collapsed. */
export function containers(layers: readonly TreeLayer[]): Set<string> {
  const names = new Set(layers.map((l) => l.name));
  return new Set(layers.map(parentOf).filter((p) => names.has(p)));
}

/** Indices of the rows left visible when the blocks in `collapsed` are folded. */
export function visibleRows(layers: readonly TreeLayer[], collapsed: ReadonlySet<string>): number[] {
  return layers.map((l, i) => [l, i] as const)
    .filter(([l]) => ![...collapsed].some((c) => l.name !== c && l.name.startsWith(`${c}.`)))
    .map(([, i]) => i);
}

/** Blocks collapsed at first sight: nested ones, when the tree has more rows than fit (`maxRows`). */
export function defaultCollapsed(layers: readonly TreeLayer[], maxRows = 40): Set<string> {
  if (layers.length <= maxRows) return new Set();
  const blocks = containers(layers);
  // Fold the deepest blocks first until it fits (or only top-level blocks are left).
  const byDepth = [...blocks].sort((a, b) => b.split('.').length - a.split('.').length);
  const out = new Set<string>();
  for (const b of byDepth) {
    if (visibleRows(layers, out).length <= maxRows || b.split('.').length <= 1) break;
    out.add(b);
  }
  if (visibleRows(layers, out).length > maxRows) for (const b of blocks) if (!b.includes('.')) out.add(b);
  return out;
}

/**
 * A label of at most `max` characters: "path kind alias", eliding the front of the path
 * ("…3.conv2") when it is too long, then the kind.
 */
export function fitLabel(l: TreeLayer, max: number): string {
  const tail = `${l.alias ? ` ${l.alias}` : ''}`;
  let path = l.name;
  const full = `${path} ${l.kind}${tail}`;
  if (full.length <= max) return full;
  const withoutKind = `${path}${tail}`;
  if (withoutKind.length <= max) return withoutKind;
  const room = Math.max(4, max - tail.length - 1);
  const parts = path.split('.');
  while (parts.length > 1 && parts.join('.').length + 1 > room) parts.shift();
  path = `…${parts.join('.')}`;
  if (path.length > room) path = `…${path.slice(path.length - room + 1)}`;
  return `${path}${tail}`;
}
