// The verdict (what went wrong, in words) and, when a NaN was located, a line that opens the
// locator report. Re-rendered on a language switch since the verdict text is translated.

import { h, panel } from '../../dom.js';
import { onLang } from '../../i18n.js';
import type { RunDetailResponse } from '../../source.js';
import { asVerdict, locatorHeadline, renderVerdict, type Locator } from '../../verdict.js';

type Run = RunDetailResponse['run'];

export class VerdictPanel {
  private readonly body: HTMLElement;
  private shown: { run: Run; locator: Locator | null } | null = null;
  private readonly offLang: () => void;

  constructor(
    parent: HTMLElement,
    private readonly openLocator: (l: Locator) => void,
  ) {
    const [sec, body] = panel('Verdict', 'verdict', 'verdict-panel');
    this.body = body;
    parent.append(sec);
    this.offLang = onLang(() => this.render());
  }

  update(run: Run, locator: Locator | null): void {
    this.shown = { run, locator };
    this.render();
  }

  private render(): void {
    if (!this.shown) return;
    const { run, locator } = this.shown;
    const v = asVerdict(run.verdict);
    this.body.replaceChildren(
      v ? renderVerdict(v) : h('p', { class: 'muted' }, run.status === 'running' ? 'No verdict yet (the run is still going).' : 'No verdict recorded.'),
    );
    if (locator) {
      this.body.append(
        h(
          'p',
          { class: 'trouble-line' },
          locatorHeadline(locator),
          ' ',
          h('button', { type: 'button', class: 'open-locator', onclick: () => this.openLocator(locator) }, 'Open locator report'),
        ),
      );
    }
  }

  destroy(): void {
    this.offLang();
  }
}
