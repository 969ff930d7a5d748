// Entry: picks the data source (live API, or the JSON a static report
// embeds), routes on the URL hash and wires the language toggle.

import 'uplot/dist/uPlot.min.css';
import './style.css';
import { h } from './dom.js';
import { getLang, setLang } from './i18n.js';
import { parseJson } from './json.js';
import { comparePage } from './pages/compare.js';
import { runPage } from './pages/run.js';
import { runsPage } from './pages/runs.js';
import { ApiSource, ReportSource, type ReportBundle, type Source } from './source.js';

const app = document.getElementById('app') as HTMLElement;
const langBtn = document.getElementById('lang') as HTMLButtonElement;

function embedded(): ReportBundle | null {
  const el = document.getElementById('nanscope-data');
  if (!el?.textContent) return null;
  return parseJson<ReportBundle>(el.textContent);
}

const bundle = embedded();
const src: Source = bundle ? new ReportSource(bundle) : new ApiSource('api');
if (bundle) document.body.classList.add('static-report');

function paintLang(): void {
  langBtn.textContent = getLang() === 'en' ? 'EN · 中文' : '中文 · EN';
  langBtn.dataset.lang = getLang();
}
langBtn.addEventListener('click', () => {
  setLang(getLang() === 'en' ? 'zh' : 'en');
  paintLang();
});
paintLang();

let current: { destroy(): void } | null = null;
let seq = 0;

async function route(): Promise<void> {
  const my = ++seq;
  current?.destroy();
  current = null;
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs = ''] = raw.split('?');
  const params = new URLSearchParams(qs);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    let page: { destroy(): void };
    if (bundle) {
      page = await runPage(app, src, bundle.run.run.id);
    } else if (parts[0] === 'run' && parts[1]) {
      page = await runPage(app, src, parts[1]);
    } else if (parts[0] === 'compare') {
      page = await comparePage(app, src, params);
    } else {
      page = await runsPage(app, src, params);
    }
    if (my !== seq) page.destroy();
    else current = page;
  } catch (err) {
    if (my !== seq) return;
    app.replaceChildren(
      h('div', { class: 'error-page' }, h('h1', {}, 'Could not show this page'), h('p', { class: 'error' }, (err as Error).message), h('p', {}, h('a', { href: '#/' }, 'Back to all runs'))),
    );
    document.body.dataset.ready = 'error';
  }
}

window.addEventListener('hashchange', () => void route());
void route();
