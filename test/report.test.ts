// The static report: one HTML file that opens from disk with the network cut
// off (every non-file request aborted and recorded), charts painted, the NaN
// locator reachable; PNG export; clear errors; the report CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { reportCommand } from '../src/cli/report.js';
import { ReportError, buildBundle, renderReportHtml, writePngs, writeReport } from '../src/report/index.js';
import { openStore, type Store } from '../src/store/index.js';
import { ALEXNET, REPO, ensureWebBuilt, launch, shot, tmp, writeRun, type Browser } from './web-support.js';

const painted = (sel: string) => `(() => {
  const c = document.querySelector(${JSON.stringify(sel)});
  if (!c) return -1;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
  return n;
})()`;

describe('static report', () => {
  let root: string;
  let store: Store;
  let bad: string;
  let evil: string;
  let b: Browser;

  before(async () => {
    ensureWebBuilt();
    root = tmp('nanscope-report-');
    store = openStore(root);
    bad = writeRun(store, { name: 'alexnet lr=10', steps: 0, growth: 2, trouble: { nanStep: 30, layer: 3 } }).id;
    evil = writeRun(store, {
      name: 'x</script><script>window.__pwned=1</script><!--',
      steps: 12,
      config: { model: 'alexnet', note: '</script><img src=x onerror="window.__pwned=2">', price: '$& $1 $$' },
    }).id;
    b = await launch();
  });

  after(async () => {
    await b?.close();
    store?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Open a file with every non-file request aborted; returns every URL the page asked for. */
  async function openOffline(file: string): Promise<string[]> {
    const requested = new Set<string>();
    await b.context.route('**/*', (route) => {
      const url = route.request().url();
      requested.add(url);
      return url.startsWith('file:') ? route.continue() : route.abort('blockedbyclient');
    });
    const onRequest = (r: { url(): string }): void => void requested.add(r.url());
    b.page.on('request', onRequest);
    try {
      await b.page.goto(pathToFileURL(file).href);
      await b.page.waitForSelector('body[data-ready]');
      await b.page.waitForLoadState('networkidle');
    } finally {
      b.page.off('request', onRequest);
    }
    assert.equal(await b.page.getAttribute('body', 'data-ready'), '1', await b.page.locator('#app').innerText());
    return [...requested];
  }

  test('one file, opens from disk offline, charts render, locator reachable', async () => {
    const out = join(root, 'out', 'report.html');
    const r = await writeReport({ runsRoot: root, runId: bad, out });
    assert.equal(r.out, out);
    const html = readFileSync(out, 'utf8');
    assert.equal(r.bytes, Buffer.byteLength(html));
    assert.doesNotMatch(html, /<script[^>]+\bsrc=/, 'no external scripts');
    assert.doesNotMatch(html, /<link[^>]+rel="stylesheet"/, 'no external styles');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    assert.match(html, /id="nanscope-data"/);

    const requested = await openOffline(out);
    await b.page.waitForFunction(() => Number(document.querySelector('#chart-loss')?.getAttribute('data-points')) === 30);
    assert.ok(Number(await b.page.evaluate(painted('#chart-loss canvas'))) > 500, 'loss chart painted');
    assert.ok(Number(await b.page.evaluate(painted('#heatmap-canvas'))) > 5000, 'heatmap painted');
    assert.equal(await b.page.getAttribute('#heatmap', 'data-layers'), String(ALEXNET.length));
    await b.page.locator('#chart-loss .nan-marker').click();
    await b.page.locator('#locator').waitFor({ state: 'visible' });
    assert.equal(await b.page.getAttribute('#locator .locator-body', 'data-layer'), '3');
    assert.match(await b.page.locator('#verdict').innerText(), /Exploding gradients/);
    await b.page.click('#lang');
    assert.match(await b.page.locator('#verdict').innerText(), /梯度爆炸/);
    await b.page.click('#lang');
    await shot(b.page, 'report-nan');
    const beyond = requested.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'));
    assert.deepEqual(beyond, [], `requests beyond file://: ${beyond.join(', ')}`);
    assert.deepEqual(requested.filter((u) => u.startsWith('file:')), [pathToFileURL(out).href], 'only the HTML itself');
    assert.deepEqual(b.errors, []);
    await b.context.unroute('**/*');
  });

  test('hostile run names and configs are inert text', async () => {
    const out = join(root, 'evil.html');
    await writeReport({ runsRoot: root, runId: evil, out });
    let dialogs = 0;
    b.page.on('dialog', (d) => {
      dialogs++;
      void d.dismiss();
    });
    await openOffline(out);
    assert.equal(await b.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(dialogs, 0);
    assert.match(await b.page.locator('h1').innerText(), /<\/script><script>/);
    assert.match(await b.page.locator('pre.config').innerText(), /\$& \$1 \$\$/);
    assert.match(await b.page.title(), /^nanscope report: x<\/script>/);
    assert.deepEqual(b.errors, []);
    await b.context.unroute('**/*');
  });

  test('PNGs of the key plots', async () => {
    const dir = join(root, 'png');
    const files = await writePngs({ runsRoot: root, runId: bad, dir });
    const names = files.map((f) => f.slice(dir.length + 1)).sort();
    for (const n of ['loss.png', 'heatmap.png', 'verdict.png', 'locator.png', 'layers.png', 'dead-relu.png', 'update-ratio.png', 'grad-norm.png']) {
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    }
    for (const f of files) {
      const buf = readFileSync(f);
      assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${f} is a PNG`);
      assert.ok(buf.length > 2000, `${f} has content (${buf.length} bytes)`);
    }
  });

  test('clear errors: no Chromium, no build, no run', async () => {
    await assert.rejects(writePngs({ runsRoot: root, runId: bad, dir: join(root, 'x'), chromiumPath: '/nonexistent/chromium' }), (e: Error) => {
      assert.ok(e instanceof ReportError);
      assert.match(e.message, /Chromium at \/nonexistent\/chromium/);
      return true;
    });
    const empty = tmp('nanscope-noweb-');
    try {
      assert.throws(() => renderReportHtml(buildBundle(store, bad), empty), /npx vite build web/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    await assert.rejects(writeReport({ runsRoot: root, runId: 'nope', out: join(root, 'n.html') }), /no run 'nope'/);
    await assert.rejects(writeReport({ runsRoot: join(root, 'missing'), runId: bad, out: join(root, 'n.html') }), /no run store/);
    assert.equal(existsSync(join(root, 'missing')), false, 'a missing runs folder is not created');
  });

  test('report CLI: usage errors are exit code 2, an unknown run 1, the real thing 0', async () => {
    const err: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string | Uint8Array) => (err.push(String(s)), true)) as typeof process.stderr.write;
    try {
      assert.equal(await reportCommand([]), 2);
      assert.equal(await reportCommand(['--bogus', bad]), 2);
      assert.equal(await reportCommand([bad, 'extra']), 2);
      assert.equal(await reportCommand(['nope', '--runs-dir', root, '--out', join(root, 'n.html')]), 1);
      assert.equal(await reportCommand([bad, '--runs-dir', join(root, 'missing')]), 1);
    } finally {
      process.stderr.write = write;
    }
    assert.ok(err.every((l) => l.startsWith('nanscope report: ')), err.join(''));
    const out = join(root, 'cli', 'r.html');
    const png = join(root, 'cli', 'png');
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'test/web-cli-runner.ts'), 'report', bad, '--runs-dir', root, '--out', out, '--png', png], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /report: .*r\.html/);
    assert.ok(existsSync(out));
    assert.ok(readdirSync(png).includes('loss.png'));
  });
});
