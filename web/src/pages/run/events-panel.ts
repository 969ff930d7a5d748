// The run's events (newest 200), a NaN event's row opening its locator report.

import { h, panel } from '../../dom.js';
import { when } from '../../format.js';
import type { EventRow } from '../../source.js';
import { asLocator, eventSummary, type Locator } from '../../verdict.js';

export class EventsPanel {
  private readonly body: HTMLElement;

  constructor(
    parent: HTMLElement,
    private readonly openLocator: (l: Locator | null) => void,
  ) {
    const [sec, body] = panel('Events', 'events');
    this.body = body;
    parent.append(sec);
  }

  update(events: readonly EventRow[]): void {
    if (!events.length) {
      this.body.replaceChildren(h('p', { class: 'muted' }, 'No events.'));
      return;
    }
    this.body.replaceChildren(
      h(
        'table',
        { class: 'grid small' },
        h('thead', {}, h('tr', {}, h('th', {}, 'kind'), h('th', {}, 'step'), h('th', {}, 'when'), h('th', {}, 'details'))),
        h('tbody', {}, events.slice(-200).map((e) => this.row(e))),
      ),
    );
  }

  private row(e: EventRow): HTMLTableRowElement {
    const tr = h(
      'tr',
      { class: `event-${e.kind}` },
      h('td', {}, h('span', { class: `badge ev-${e.kind}` }, e.kind)),
      h('td', {}, e.step ?? '–'),
      h('td', {}, when(e.at)),
      h('td', {}, eventSummary(e.kind, e.payload)),
    );
    if (e.kind === 'nan') {
      tr.classList.add('clickable');
      tr.addEventListener('click', () => this.openLocator(asLocator(e.payload)));
    }
    return tr;
  }
}
