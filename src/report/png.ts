// The report's key plots as PNG files: render the self-contained report in
// headless Chromium (playwright-core, the system's /usr/bin/chromium) with
// every non-file request aborted, and screenshot each chart's element.

import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ReportError, writeReport } from './html.js';
import { checkReportOut, isPng } from './out.js';
import { writeFileAtomic } from '../store/index.js';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** PNG name → element on the report page. */
export const PLOTS: Record<string, string> = {
  verdict: '#verdict',
  locator: '#locator',
  loss: '#chart-loss',
  'grad-norm': '#chart-gradnorm',
  accuracy: '#chart-acc',
  heatmap: '#heat',
  layers: '#layers-at-step',
  'dead-relu': '#chart-dead',
  'update-ratio': '#chart-ratio',
  histograms: '#histograms',
};

export interface PngOptions {
  runsRoot: string;
  runId: string;
  /** Folder for the PNGs (created if missing). */
  dir: string;
  /** Chromium binary; default $NANSCOPE_CHROMIUM or /usr/bin/chromium. */
  chromiumPath?: string;
  webRoot?: string;
  /** CSS pixel width of the page; default 1280. */
  width?: number;
  /** Per-step timeout in ms; default 30 s. */
  timeoutMs?: number;
  /** Language of verdicts and explanations in the PNGs; default en. */
  lang?: 'en' | 'zh';
  /** Replace existing files that are not PNGs (never the runs folder's own files; see out.ts). */
  force?: boolean;
}

/** Where each plot goes, every path checked (before anything is written): a plot replaces only an earlier plot. */
export function pngTargets(opts: Pick<PngOptions, 'dir' | 'runsRoot' | 'force'>): Map<string, string> {
  return new Map(Object.keys(PLOTS).map((name) => [name, checkReportOut(join(resolve(opts.dir), `${name}.png`), opts.runsRoot, opts.force, isPng, '--png')]));
}

export function chromiumPath(explicit?: string): string {
  const p = explicit ?? process.env.NANSCOPE_CHROMIUM ?? DEFAULT_CHROMIUM;
  if (!existsSync(p)) {
    throw new ReportError(
      `PNG export needs Chromium at ${p}, which does not exist; install it (Debian: apt-get install chromium) or set NANSCOPE_CHROMIUM`,
    );
  }
  return p;
}

/** Render the run's plots; returns the PNG paths written (plots with no data on the page are skipped). */
export async function writePngs(opts: PngOptions): Promise<string[]> {
  const exe = chromiumPath(opts.chromiumPath);
  const { chromium } = await import('playwright-core');
  const work = mkdtempSync(join(tmpdir(), 'nanscope-png-'));
  const dir = resolve(opts.dir);
  const targets = pngTargets(opts);
  mkdirSync(dir, { recursive: true });
  const timeout = opts.timeoutMs ?? 30_000;
  let browser: Awaited<ReturnType<typeof chromium.launch>> | undefined;
  try {
    const html = join(work, 'report.html');
    await writeReport({ runsRoot: opts.runsRoot, runId: opts.runId, out: html, webRoot: opts.webRoot });
    browser = await chromium.launch({ executablePath: exe, args: CHROMIUM_ARGS, timeout });
    // The page picks its language from the browser's (navigator.language).
    const context = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: 900 }, deviceScaleFactor: 1,
      locale: opts.lang === 'zh' ? 'zh-CN' : 'en-US' });
    await context.route('**/*', (route) =>
      route.request().url().startsWith('file:') ? route.continue() : route.abort('blockedbyclient'),
    );
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(html).href, { timeout });
    await page.waitForSelector('body[data-ready]', { timeout });
    if ((await page.getAttribute('body', 'data-ready')) !== '1') {
      throw new ReportError(`the report page failed to render: ${errors.join('; ') || (await page.textContent('#app'))}`);
    }
    // Bars load a step after the probes; give them (and the charts' first frame) a moment.
    await page
      .waitForFunction(() => {
        const heat = document.querySelector('#heatmap') as HTMLElement | null;
        const bars = document.querySelector('#layers-at-step') as HTMLElement | null;
        return !heat || heat.dataset.steps === '0' || !!bars?.dataset.step;
      }, undefined, { timeout: 5000 })
      .catch(() => undefined);
    const opener = await page.$('.open-locator');
    if (opener) await opener.click();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const written: string[] = [];
    for (const [name, selector] of Object.entries(PLOTS)) {
      const el = await page.$(selector);
      if (!el || !(await el.isVisible())) continue;
      const file = checkReportOut(targets.get(name)!, opts.runsRoot, opts.force, isPng, '--png'); // again: just before writing
      await writeFileAtomic(file, await el.screenshot({ timeout }));
      written.push(file);
    }
    if (errors.length) throw new ReportError(`the report page had errors: ${errors.join('; ')}`);
    return written;
  } finally {
    await browser?.close().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}
