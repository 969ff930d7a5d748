// The runs list: status, verdict, first NaN, final accuracy; filters; pick
// runs to compare.

import { clear, h } from '../dom.js';
import { d2lNum, pct, when } from '../format.js';
import type { RunSummary, Source, SweepListItem } from '../source.js';
import { statusBadge, verdictBadge } from '../verdict.js';

const STATUSES = ['running', 'finished', 'diverged', 'stopped', 'failed', 'interrupted'];
const KINDS = ['train', 'experiment', 'sweep-cell', 'replay'];

function modelOf(config: unknown): string {
  const c = config && typeof config === 'object' ? (config as Record<string, unknown>) : null;
  const m = c?.model ?? c?.arch;
  return typeof m === 'string' ? m : '–';
}

export async function runsPage(root: HTMLElement, src: Source, params: URLSearchParams): Promise<{ destroy(): void }> {
  clear(root);
  root.dataset.page = 'runs';
  const filter = { status: params.get('status') ?? '', kind: params.get('kind') ?? '', sweep: params.get('sweep') ?? '' };
  const selected = new Set<string>();
  const mkSelect = (id: string, label: string, options: string[], value: string): HTMLSelectElement => {
    const s = h('select', { id }, h('option', { value: '' }, `any ${label}`));
    for (const o of options) s.append(h('option', { value: o, selected: o === value }, o));
    return s;
  };
  const statusSel = mkSelect('filter-status', 'status', STATUSES, filter.status);
  const kindSel = mkSelect('filter-kind', 'kind', KINDS, filter.kind);
  let sweeps: SweepListItem[] = [];
  try {
    sweeps = await src.sweeps();
  } catch {
    sweeps = [];
  }
  const sweepSel = mkSelect('filter-sweep', 'sweep', sweeps.map((s) => s.id), filter.sweep);
  const compareBtn = h('button', { type: 'button', id: 'compare-selected', disabled: true }, 'Compare selected');
  const count = h('span', { class: 'muted' });
  const tableBox = h('div', { class: 'table-box' });
  root.append(
    h('h1', {}, 'Runs'),
    h('div', { class: 'controls' }, statusSel, kindSel, sweepSel, compareBtn, count),
    tableBox,
  );

  const updateHash = (): void => {
    const q = new URLSearchParams();
    if (filter.status) q.set('status', filter.status);
    if (filter.kind) q.set('kind', filter.kind);
    if (filter.sweep) q.set('sweep', filter.sweep);
    const qs = q.toString();
    history.replaceState(null, '', `#/${qs ? `?${qs}` : ''}`);
  };
  const render = (runs: RunSummary[]): void => {
    count.textContent = `${runs.length} run${runs.length === 1 ? '' : 's'}`;
    if (!runs.length) {
      tableBox.replaceChildren(
        h('p', { class: 'muted' }, 'No runs match. Start one with ', h('code', {}, 'nanscope train'), '.'),
      );
      return;
    }
    const rows = runs.map((r) => {
      const cb = h('input', { type: 'checkbox', checked: selected.has(r.id), 'aria-label': `select ${r.id}` });
      cb.addEventListener('change', () => {
        if (cb.checked) selected.add(r.id);
        else selected.delete(r.id);
        compareBtn.disabled = selected.size === 0;
      });
      const stale = r.status === 'running' && Date.now() - r.updatedAt > 60_000;
      return h(
        'tr',
        { 'data-run': r.id, class: r.firstNanStep !== null ? 'had-nan' : '' },
        h('td', {}, cb),
        h('td', {}, h('a', { href: `#/run/${encodeURIComponent(r.id)}` }, r.name), h('div', { class: 'muted tiny' }, r.id)),
        h('td', {}, statusBadge(r.status, stale)),
        h('td', {}, verdictBadge(r.verdict)),
        h('td', {}, modelOf(r.config)),
        h('td', { class: r.firstNanStep !== null ? 'trouble num' : 'num' }, r.firstNanStep ?? '–'),
        h('td', { class: 'num' }, r.epochsDone),
        h('td', { class: 'num' }, r.stepsDone),
        h('td', { class: 'num' }, pct(r.finalTrainAcc)),
        h('td', { class: 'num' }, pct(r.finalTestAcc)),
        h('td', { class: 'num' }, d2lNum(r.finalLoss)),
        h('td', {}, r.sweepId ? h('a', { href: `#/compare?sweep=${encodeURIComponent(r.sweepId)}` }, r.cellKey ?? r.sweepId) : '–'),
        h('td', { class: 'tiny' }, when(r.createdAt)),
      );
    });
    const heads = ['', 'run', 'status', 'verdict', 'model', 'first NaN step', 'epochs', 'steps', 'train acc', 'test acc', 'loss', 'sweep cell', 'started'];
    tableBox.replaceChildren(
      h('table', { class: 'grid', id: 'runs-table' }, h('thead', {}, h('tr', {}, heads.map((t) => h('th', {}, t)))), h('tbody', {}, rows)),
    );
  };

  let timer: ReturnType<typeof setTimeout> | null = null;
  let destroyed = false;
  const load = async (): Promise<void> => {
    try {
      render(await src.runs({ status: filter.status || undefined, kind: filter.kind || undefined, sweep: filter.sweep || undefined }));
      root.dataset.ready = '1';
      document.body.dataset.ready = '1';
    } catch (err) {
      tableBox.replaceChildren(h('p', { class: 'error' }, `Could not load runs: ${(err as Error).message}`));
    }
    if (src.live && !destroyed) timer = setTimeout(() => void load(), 3000);
  };
  const onFilter = (): void => {
    filter.status = statusSel.value;
    filter.kind = kindSel.value;
    filter.sweep = sweepSel.value;
    updateHash();
    if (timer) clearTimeout(timer);
    void load();
  };
  for (const s of [statusSel, kindSel, sweepSel]) s.addEventListener('change', onFilter);
  compareBtn.addEventListener('click', () => {
    location.hash = `#/compare?runs=${[...selected].map(encodeURIComponent).join(',')}`;
  });
  await load();
  return {
    destroy: () => {
      destroyed = true;
      if (timer) clearTimeout(timer);
      delete document.body.dataset.ready;
    },
  };
}
