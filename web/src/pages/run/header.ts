// The run's title line (name, status, live dot) and its one-line facts: model, sweep, parent,
// timing, progress, test accuracy, first NaN, the machine and any error.

import { h } from '../../dom.js';
import { duration, pct, when } from '../../format.js';
import type { RunDetailResponse } from '../../source.js';
import { statusBadge } from '../../verdict.js';
import { describeMachine } from '../../../../src/store/machine.js';

type Run = RunDetailResponse['run'];

/** A running run that has not written for a minute is probably dead. */
function isStale(r: Run): boolean {
  return r.status === 'running' && Date.now() - r.updatedAt > 60_000;
}

function modelOf(config: unknown): string | null {
  const c = config && typeof config === 'object' ? (config as Record<string, unknown>) : null;
  const m = c?.model ?? c?.arch ?? c?.net;
  return typeof m === 'string' ? m : null;
}

export class RunHeader {
  private readonly el = h('div', { class: 'run-head' });
  private readonly liveDot: HTMLSpanElement;

  constructor(parent: HTMLElement, live: boolean) {
    this.liveDot = h('span', { class: 'live-dot', title: 'live updates', hidden: !live });
    parent.append(this.el);
  }

  setConnected(up: boolean): void {
    this.liveDot.classList.toggle('up', up);
  }

  update(r: Run): void {
    const model = modelOf(r.config);
    const elapsed = (r.finishedAt ?? (r.status === 'running' ? Date.now() : r.updatedAt)) - r.createdAt;
    this.el.replaceChildren(
      h('h1', {}, r.name, ' ', statusBadge(r.status, isStale(r)), ' ', this.liveDot),
      h(
        'p',
        { class: 'meta' },
        h('code', {}, r.id),
        ` · ${r.kind}`,
        model ? ` · ${model}` : '',
        r.sweepId ? h('span', {}, ' · sweep ', h('a', { href: `#/compare?sweep=${encodeURIComponent(r.sweepId)}` }, r.sweepId)) : '',
        r.parentId ? h('span', {}, ' · from ', h('a', { href: `#/run/${encodeURIComponent(r.parentId)}` }, r.parentId)) : '',
        ` · started ${when(r.createdAt)} · ${duration(elapsed)}`,
        ` · ${r.stepsDone} steps · ${r.epochsDone} epochs`,
        r.finalTestAcc !== null ? ` · test acc ${pct(r.finalTestAcc)}` : '',
        r.firstNanStep !== null ? h('span', { class: 'trouble' }, ` · first NaN at step ${r.firstNanStep}`) : '',
      ),
      // Where a run near the edge of divergence goes NaN depends on the machine (store migration 6).
      r.machine ? h('p', { class: 'meta machine' }, `machine: ${describeMachine(r.machine)}`) : '',
      r.error ? h('p', { class: 'error' }, r.error) : '',
    );
  }
}
