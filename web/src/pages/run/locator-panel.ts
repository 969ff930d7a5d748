// The NaN locator report: hidden until something opens it (a NaN marker, an event row, the
// verdict's button), then flashed and scrolled into view; closable. Re-rendered on a
// language switch while open.

import { h, panel } from '../../dom.js';
import { onLang } from '../../i18n.js';
import { renderLocator, type Locator } from '../../verdict.js';

export class LocatorPanel {
  private readonly sec: HTMLElement;
  private readonly body: HTMLElement;
  private shown: Locator | null = null;
  private destroyReport: (() => void) | null = null;
  private readonly offLang: () => void;

  constructor(parent: HTMLElement) {
    [this.sec, this.body] = panel('NaN locator report', 'locator', 'locator-panel');
    this.sec.hidden = true;
    const close = h('button', { type: 'button', class: 'close', title: 'close' }, '×');
    close.addEventListener('click', () => {
      this.sec.hidden = true;
    });
    this.sec.querySelector('h2')?.append(close);
    parent.append(this.sec);
    this.offLang = onLang(() => {
      if (!this.sec.hidden && this.shown) this.open(this.shown);
    });
  }

  /** Show `l` (nothing when no report is known). */
  open(l: Locator | null): void {
    if (!l) return;
    this.shown = l;
    this.destroyReport?.();
    const r = renderLocator(l);
    this.destroyReport = r.destroy;
    this.body.replaceChildren(r.el);
    this.sec.hidden = false;
    // Restart the flash animation: drop the class, force a reflow, add it back.
    this.sec.classList.remove('flash');
    void this.sec.offsetWidth;
    this.sec.classList.add('flash');
    this.sec.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }

  destroy(): void {
    this.offLang();
    this.destroyReport?.();
  }
}
