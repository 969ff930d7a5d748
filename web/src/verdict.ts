// The verdict and the NaN locator report, read defensively: any part of
// either may be missing (older runs, runs still going, partial reports).

import { LineChart } from './charts/line.js';
import { h } from './dom.js';
import { fmt } from './format.js';
import { tr } from './i18n.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const nums = (v: unknown): number[] => (Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? x : Number.NaN)) : []);

export interface Verdict {
  run?: string;
  layers: { name: string; alias?: string; kind?: string; verdict: string; note?: string }[];
  text: unknown;
  fixes: unknown[];
}

export function asVerdict(v: unknown): Verdict | null {
  const o = obj(v);
  if (!o) return typeof v === 'string' ? { run: v, layers: [], text: null, fixes: [] } : null;
  const layers = (Array.isArray(o.layers) ? o.layers : [])
    .map(obj)
    .filter((l): l is Obj => l !== null)
    .map((l) => ({
      name: String(l.name ?? '?'),
      alias: str(l.alias),
      kind: str(l.kind),
      verdict: String(l.verdict ?? ''),
      note: str(l.note),
    }));
  return { run: str(o.run), layers, text: o.text ?? null, fixes: Array.isArray(o.fixes) ? o.fixes : [] };
}

export interface Locator {
  step?: number;
  epoch?: number;
  batch?: number;
  pass?: string;
  layer?: string;
  layerKind?: string;
  alias?: string;
  op?: string;
  tensor?: string;
  counts?: { nan?: number; posInf?: number; negInf?: number };
  trail?: { steps: number[]; actMax: number[]; gradNorm: number[] };
  explanation?: unknown;
}

export function asLocator(v: unknown): Locator | null {
  const o = obj(v);
  if (!o) return null;
  const c = obj(o.counts);
  const t = obj(o.trail);
  const layer = o.layer === undefined || o.layer === null ? undefined : String(o.layer);
  return {
    step: num(o.step),
    epoch: num(o.epoch),
    batch: num(o.batch),
    pass: str(o.pass),
    layer,
    layerKind: str(o.layerKind),
    alias: str(o.alias),
    op: str(o.op),
    tensor: str(o.tensor),
    counts: c ? { nan: num(c.nan), posInf: num(c.posInf), negInf: num(c.negInf) } : undefined,
    trail: t ? { steps: nums(t.steps), actMax: nums(t.actMax), gradNorm: nums(t.gradNorm) } : undefined,
    explanation: o.explanation,
  };
}

export function verdictBadge(v: unknown): HTMLElement {
  const run = asVerdict(v)?.run;
  return h('span', { class: `badge verdict-${run ?? 'none'}` }, run ?? '–');
}

export function statusBadge(status: string, stale = false): HTMLElement {
  return h('span', { class: `badge status-${status}`, title: stale ? 'no update for over a minute' : undefined }, stale ? `${status}?` : status);
}

export function renderVerdict(v: Verdict): HTMLElement {
  const text = tr(v.text);
  // A fix the doctor tried carries its evidence (held or not, loss and accuracy at the horizon).
  const fixes = v.fixes.map((f) => {
    const ev = f && typeof f === 'object' ? tr((f as { evidence?: unknown }).evidence) : '';
    return ev ? `${tr(f)} (${ev})` : tr(f);
  }).filter(Boolean);
  const bad = v.layers.filter((l) => l.verdict && l.verdict !== 'healthy');
  return h(
    'div',
    { class: 'verdict', 'data-verdict': v.run ?? '' },
    h('p', { class: 'verdict-head' }, 'Verdict: ', verdictBadge({ run: v.run })),
    text ? h('p', { class: 'verdict-text' }, text) : null,
    fixes.length ? h('div', {}, h('h3', {}, 'Suggested fixes'), h('ol', { class: 'fixes' }, fixes.map((f) => h('li', {}, f)))) : null,
    v.layers.length
      ? h(
          'details',
          { open: bad.length > 0 && bad.length <= 8 },
          h('summary', {}, `Per-layer verdicts (${bad.length} of ${v.layers.length} flagged)`),
          h(
            'table',
            { class: 'grid small' },
            h('thead', {}, h('tr', {}, ['layer', 'kind', 'alias', 'verdict', 'note'].map((t) => h('th', {}, t)))),
            h(
              'tbody',
              {},
              v.layers.map((l) =>
                h(
                  'tr',
                  { class: l.verdict !== 'healthy' ? 'flag' : '' },
                  h('td', {}, l.name),
                  h('td', {}, l.kind ?? ''),
                  h('td', {}, l.alias ?? ''),
                  h('td', {}, h('span', { class: `badge verdict-${l.verdict}` }, l.verdict)),
                  h('td', { class: 'muted' }, l.note ?? ''),
                ),
              ),
            ),
          ),
        )
      : null,
  );
}

export function locatorHeadline(l: Locator): string {
  const where = [l.layer !== undefined ? `layer ${l.layer}` : null, l.layerKind, l.alias ? `(${l.alias})` : null]
    .filter(Boolean)
    .join(' ');
  const at = l.step !== undefined ? `step ${l.step}` : 'an unknown step';
  return `First non-finite value at ${at}${l.pass ? `, ${l.pass} pass` : ''}${where ? `, in ${where}` : ''}`;
}

/** The locator report; returns the element and a cleanup for its chart. */
export function renderLocator(l: Locator): { el: HTMLElement; destroy: () => void } {
  const counts = l.counts;
  const rows: [string, string | undefined][] = [
    ['step', l.step !== undefined ? String(l.step) : undefined],
    ['epoch / batch', l.epoch !== undefined || l.batch !== undefined ? `${l.epoch ?? '?'} / ${l.batch ?? '?'}` : undefined],
    ['pass', l.pass],
    ['layer', l.layer],
    ['layer kind', l.layerKind],
    ['alias', l.alias],
    ['op', l.op],
    ['tensor', l.tensor],
    [
      'counts',
      counts ? `NaN ${counts.nan ?? 0} · +Inf ${counts.posInf ?? 0} · −Inf ${counts.negInf ?? 0}` : undefined,
    ],
  ];
  const explanation = tr(l.explanation);
  const el = h(
    'div',
    { class: 'locator-body', 'data-layer': l.layer ?? '', 'data-step': l.step ?? '' },
    h('p', { class: 'locator-head' }, locatorHeadline(l)),
    h(
      'table',
      { class: 'kv' },
      h(
        'tbody',
        {},
        rows.filter(([, v]) => v !== undefined).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { class: `loc-${k.replace(/\W+/g, '-')}` }, v ?? ''))),
      ),
    ),
    explanation ? h('p', { class: 'explanation' }, explanation) : null,
  );
  let chart: LineChart | null = null;
  const t = l.trail;
  if (t && t.steps.length) {
    const box = h('div', { class: 'trail' }, h('h3', {}, 'Trail before the NaN'));
    el.append(box);
    chart = new LineChart(box, { id: 'chart-trail', xLabel: 'step', log: true, height: 180 });
    chart.setData(t.steps, [
      { label: 'act max (located layer)', values: t.actMax, points: true },
      { label: 'grad norm', values: t.gradNorm, points: true },
    ]);
  }
  return { el, destroy: () => chart?.destroy() };
}

export function eventSummary(kind: string, payload: unknown): string {
  if (kind === 'nan') {
    const l = asLocator(payload);
    return l ? locatorHeadline(l) : 'non-finite value';
  }
  const o = obj(payload);
  if (!o) return payload === null || payload === undefined ? '' : String(payload);
  if (kind === 'warning' && typeof o.en === 'string') return tr({ en: o.en, zh: o.zh });
  if (kind === 'doctor' && typeof o.recommendation === 'string') return o.recommendation;
  return Object.entries(o)
    .slice(0, 6)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ');
}
