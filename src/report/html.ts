// A single self-contained HTML report: the built dashboard's JS and CSS
// inlined, the run's data embedded as JSON, and a CSP that forbids every
// network request, so the file opens from disk, offline, anywhere.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openStore, toJson, writeFileAtomic, type Store } from '../store/index.js';
import { reportBundle } from '../server/data.js';
import { defaultWebRoot } from '../server/server.js';
import { pathSegments, resolveFile } from '../server/paths.js';
import type { ReportBundle } from '../server/wire.js';
import { ReportError } from './errors.js';
import { REPORT_GENERATOR, checkReportOut } from './out.js';

export interface ReportOptions {
  runsRoot: string;
  runId: string;
  /** Output .html path. */
  out: string;
  /** Built front end; default web/dist of this checkout. */
  webRoot?: string;
  /** Replace an existing file that is not a report (never one of the store's files; see out.ts). */
  force?: boolean;
}

export { ReportError };

const REPORT_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; " +
  "font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'";

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

// Inline code must not close its own element or open an HTML comment.
const inlineJs = (code: string): string => code.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
const inlineCss = (code: string): string => code.replace(/<\/(style)/gi, '<\\/$1');
/** JSON inside <script type="application/json">: '<' as \u003c (only ever inside strings). */
const inlineJson = (json: string): string => json.replace(/</g, '\\u003c');

function readAsset(webRoot: string, ref: string): string {
  const rel = ref.replace(/^\.\//, '/').replace(/^(?!\/)/, '/');
  return readFileSync(resolveFile(webRoot, pathSegments(rel)), 'utf8');
}

/** The built index.html with its JS/CSS inlined and `bundle` embedded. */
export function renderReportHtml(bundle: ReportBundle, webRoot = defaultWebRoot()): string {
  const root = resolve(webRoot);
  const indexPath = join(root, 'index.html');
  if (!existsSync(indexPath)) {
    throw new ReportError(`the dashboard front end is not built (${indexPath} is missing); run: npx vite build web`);
  }
  let html = readFileSync(indexPath, 'utf8');
  let scripts = 0;
  // Function replacers throughout: the inlined code may contain `$&` and friends.
  html = html.replace(/<script\b[^>]*\bsrc="([^"]+)"[^>]*><\/script>/g, (_m, src: string) => {
    scripts++;
    return `<script type="module">${inlineJs(readAsset(root, src))}</script>`;
  });
  html = html.replace(/<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"[^>]*>/g, (_m, href: string) => {
    return `<style>${inlineCss(readAsset(root, href))}</style>`;
  });
  html = html.replace(/<link\b[^>]*\brel="(?:modulepreload|preload)"[^>]*>/g, () => '');
  if (scripts === 0) throw new ReportError(`${indexPath} has no script to inline; rebuild with npx vite build web`);
  const run = bundle.run.run;
  const title = `nanscope report: ${run.name} (${run.id})`;
  html = html.replace(/<title>[^<]*<\/title>/, () => `<title>${escapeHtml(title)}</title>`);
  const head =
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}" />\n` +
    `    ${REPORT_GENERATOR}\n`;
  html = html.replace(/<head>\s*/, (m) => `${m}${head}    `);
  const data = `<script type="application/json" id="nanscope-data">${inlineJson(toJson(bundle))}</script>\n`;
  // Data first so it is in the DOM before the (deferred) module runs.
  html = html.replace(/<script type="module">/, (m) => `${data}    ${m}`);
  return html;
}

export function buildBundle(store: Store, runId: string): ReportBundle {
  if (!store.getRun(runId)) throw new ReportError(`no run '${runId}' in ${store.root}`);
  return reportBundle(store, runId);
}

/** Write the report for one run; returns the output path and its size. */
export async function writeReport(opts: ReportOptions): Promise<{ out: string; bytes: number }> {
  const dbPath = join(resolve(opts.runsRoot), 'nanscope.db');
  if (!existsSync(dbPath)) throw new ReportError(`no run store at ${resolve(opts.runsRoot)} (missing nanscope.db)`);
  const out = checkReportOut(opts.out, opts.runsRoot, opts.force); // before any work
  const store = openStore(opts.runsRoot, { readOnlyFallback: true });
  let html: string;
  try {
    html = renderReportHtml(buildBundle(store, opts.runId), opts.webRoot);
  } finally {
    store.close();
  }
  checkReportOut(out, opts.runsRoot, opts.force); // again: the file may have appeared meanwhile
  await writeFileAtomic(out, html);
  return { out, bytes: Buffer.byteLength(html) };
}
