// The run's config as JSON and its artifacts (linked to the server's file route when live;
// a static report has no server to serve them).

import { h, panel } from '../../dom.js';
import type { RunDetailResponse } from '../../source.js';

function configText(config: unknown): string {
  if (config === null || config === undefined) return '(no config recorded)';
  try {
    // JSON has no NaN/Infinity: spell them out rather than print null.
    return JSON.stringify(config, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
  } catch {
    return String(config);
  }
}

export class ConfigPanel {
  private readonly body: HTMLElement;

  /** `fileHref`: where an artifact is served, null when nothing serves files. */
  constructor(
    parent: HTMLElement,
    private readonly fileHref: ((relPath: string) => string) | null,
  ) {
    const [sec, body] = panel('Config', 'config');
    this.body = body;
    parent.append(sec);
  }

  update(detail: RunDetailResponse): void {
    const arts = detail.artifacts;
    const href = this.fileHref;
    this.body.replaceChildren(
      h('pre', { class: 'config' }, configText(detail.run.config)),
      arts.length
        ? h(
            'div',
            {},
            h('h3', {}, 'Artifacts'),
            h(
              'ul',
              {},
              arts.map((a) =>
                h('li', {}, href ? h('a', { href: href(a.relPath) }, a.relPath) : a.relPath, ` · ${a.kind}${a.step !== null ? ` · step ${a.step}` : ''}`),
              ),
            ),
          )
        : '',
    );
  }
}
