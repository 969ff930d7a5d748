// A sweep's cells at a glance: queued / running (on which machine, at which step) / done /
// failed, for local and Redis-queued sweeps alike; refreshed while any cell is queued or running.
import { h } from '../dom.js';
import type { Source, SweepResponse } from '../source.js';

const ORDER = ['queued', 'running', 'done', 'failed', 'stopped', 'not run'] as const;
const BADGE: Record<string, string> = { queued: 'stopped', running: 'running', done: 'finished', failed: 'failed', stopped: 'stopped', 'not run': 'stopped' };
const POLL_MS = 2000;

export function renderBoard(body: HTMLElement, s: SweepResponse): void {
  const n = new Map<string, number>();
  for (const c of s.board) n.set(c.state, (n.get(c.state) ?? 0) + 1);
  const summary = ORDER.filter((k) => n.get(k)).map((k) => h('span', { class: 'board-count', 'data-state': k }, `${n.get(k)} ${k}`));
  body.replaceChildren(
    h('p', {}, `${s.board.length} cells${s.queue ? ` on ${s.queue}` : ''}: `, ...summary.flatMap((e, i) => (i ? [' · ', e] : [e]))),
    h('table', { class: 'grid small', id: 'sweep-board' },
      h('thead', {}, h('tr', {}, ['cell', 'state', 'worker', 'steps'].map((t) => h('th', {}, t)))),
      h('tbody', {}, s.board.map((c) => h('tr', { 'data-cell': c.key, 'data-state': c.state },
        h('td', {}, c.runId ? h('a', { href: `#/run/${encodeURIComponent(c.runId)}` }, c.key) : c.key),
        h('td', {}, h('span', { class: `badge status-${BADGE[c.state]}` }, c.state)),
        h('td', {}, c.host ?? '–'),
        h('td', { class: 'num' }, c.state === 'running' || c.state === 'done' || c.step ? c.step ?? '–' : '–'))))));
}

/** Polls the sweep while cells are queued or running; onUpdate gets each new response. Returns a stop function. */
export function followBoard(src: Source, id: string, first: SweepResponse, onUpdate: (s: SweepResponse) => void): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const live = (s: SweepResponse) => s.board.some((c) => c.state === 'queued' || c.state === 'running');
  const tick = async (): Promise<void> => {
    if (stopped) return;
    try {
      const s = await src.sweep(id);
      if (stopped) return;
      onUpdate(s);
      if (!live(s)) return;
    } catch { /* server gone for a moment: try again */ }
    timer = setTimeout(() => void tick(), POLL_MS);
  };
  if (live(first)) timer = setTimeout(() => void tick(), POLL_MS);
  return () => { stopped = true; clearTimeout(timer); };
}
