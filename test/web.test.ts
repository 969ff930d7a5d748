// The dashboard in real headless Chromium, on data written through the Store
// API: runs list, live curves while a run is being written, the gradient
// heatmap, a NaN run's marker and locator report, en/zh, compare + sweep.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { startServer, type ServerHandle } from '../src/server/index.js';
import { openStore, type Store } from '../src/store/index.js';
import { traceLayers, layerMeta } from '../src/diagnose/index.js';
import { smallResnet } from './nets.js';
import { ALEXNET, FIELDS, LENET, ensureWebBuilt, launch, probe, shot, stepRow, tmp, waitFor, writeRun, type Browser } from './web-support.js';

const attr = async (b: Browser, sel: string, name: string): Promise<string | null> =>
  b.page.locator(sel).first().getAttribute(name, { timeout: 5000 });
const num = async (b: Browser, sel: string, name: string): Promise<number> => Number(await attr(b, sel, name));

describe('dashboard in Chromium', () => {
  let root: string;
  let store: Store;
  let h: ServerHandle;
  let b: Browser;
  let healthy: string;
  let bad: string;
  let sweepId: string;

  before(async () => {
    ensureWebBuilt();
    root = tmp('nanscope-e2e-');
    store = openStore(root);
    healthy = writeRun(store, { name: 'alexnet healthy', steps: 80 }).id;
    bad = writeRun(store, { name: 'alexnet lr=10', steps: 0, growth: 2, trouble: { nanStep: 30, layer: 3 } }).id;
    sweepId = store.createSweep({ name: 'seeds', grid: { seed: [1, 2, 3] } }).id;
    for (const seed of [1, 2, 3]) {
      writeRun(store, { name: `seed ${seed}`, layers: LENET, steps: 40, sweepId, cellKey: `seed=${seed}`, config: { model: 'lenet', seed } });
    }
    h = await startServer({ runsRoot: root, port: 0, pollMs: 100, log: () => undefined });
    b = await launch();
  });

  after(async () => {
    await b?.close();
    await h?.close();
    store?.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('runs list: status, verdict, first NaN step', async () => {
    await b.page.goto(h.url);
    await b.page.waitForSelector('#runs-table');
    assert.equal(await b.page.locator('#runs-table tbody tr').count(), 5);
    const row = b.page.locator(`tr[data-run="${bad}"]`);
    assert.match(await row.innerText(), /diverged/);
    assert.match(await row.innerText(), /exploding/);
    assert.match(await row.locator('td').nth(5).innerText(), /^30$/);
    await b.page.selectOption('#filter-status', 'diverged');
    await waitFor(async () => (await b.page.locator('#runs-table tbody tr').count()) === 1, 5000, 'status filter');
    await shot(b.page, 'web-runs');
    assert.deepEqual(b.errors, []);
  });

  test('live: the loss curve gains points while the run is written', async () => {
    const run = store.createRun({ name: 'live alexnet', config: { model: 'alexnet' } });
    store.setLayers(run.id, ALEXNET, FIELDS);
    const write = (from: number, to: number): void => {
      const rows = [];
      const probes = [];
      for (let s = from; s <= to; s++) {
        rows.push(stepRow(s, 20));
        probes.push({ step: s, values: probe(ALEXNET, s) });
      }
      store.logSteps(run.id, rows, probes);
    };
    write(1, 10);
    await b.page.goto(`${h.url}#/run/${run.id}`);
    await b.page.waitForSelector('body[data-ready="1"]');
    await waitFor(async () => (await num(b, '#chart-loss', 'data-points')) === 10, 5000, '10 points');
    await b.page.waitForSelector('[data-page="run"][data-live="1"]', { timeout: 5000 });
    assert.match(await b.page.locator('h1 .badge').first().innerText(), /running/);
    for (const upto of [20, 35, 50]) {
      const before = await num(b, '#chart-loss', 'data-points');
      write(before + 1, upto);
      await waitFor(async () => (await num(b, '#chart-loss', 'data-points')) === upto, 5000, `${upto} points live`);
    }
    store.logEpoch(run.id, { epoch: 0, loss: 0.9, trainAcc: 0.7, testAcc: 0.65 });
    store.logEpoch(run.id, { epoch: 1, loss: 0.7, trainAcc: 0.75, testAcc: 0.7 });
    await waitFor(async () => (await num(b, '#chart-acc', 'data-points')) === 2, 5000, 'accuracy points');
    // Probes follow (throttled), then the run finishes and the header says so.
    await waitFor(async () => (await num(b, '#heatmap', 'data-steps')) === 50, 8000, 'heatmap catches up');
    store.setStatus(run.id, 'finished');
    await waitFor(async () => /finished/.test(await b.page.locator('h1 .badge').first().innerText()), 5000, 'finished badge');
    await shot(b.page, 'web-run-live');
    assert.deepEqual(b.errors, []);
  });

  test('module tree: rows in execution order with dotted paths, a block folds and unfolds from its label', async () => {
    const net = smallResnet();
    const layers = layerMeta(traceLayers(net, [1, 1, 12, 12]));
    net.dispose();
    const run = writeRun(store, { name: 'small resnet', layers, steps: 20, config: { model: 'resnet' } });
    await b.page.goto(`${h.url}#/run/${run.id}`);
    await b.page.waitForSelector('body[data-ready="1"]');
    await waitFor(async () => (await num(b, '#heatmap', 'data-steps')) === 20, 5000, 'heatmap data');
    assert.equal(await num(b, '#heatmap', 'data-layers'), layers.length, 'small enough to show unfolded');
    // Execution order: the residual block's bn1 runs before its conv2, its own row after them.
    const names = layers.map((l) => l.name);
    assert.ok(names.indexOf('1.0.bn1') < names.indexOf('1.0.conv2') && names.indexOf('1.0.bn2') < names.indexOf('1.0'));
    const row = names.indexOf('1.0');
    const y = (r: number) => 6 + r * 18 + 9;
    await b.page.locator('#heatmap-canvas').click({ position: { x: 40, y: y(row) } });
    const inside = names.filter((n) => n.startsWith('1.0.')).length;
    await waitFor(async () => (await num(b, '#heatmap', 'data-layers')) === layers.length - inside, 5000, 'block 1.0 folded');
    await waitFor(async () => (await num(b, '#bar-actmax', 'data-bars')) === layers.length - inside, 5000, 'the per-layer bars fold with it');
    await b.page.locator('#heatmap-canvas').click({ position: { x: 40, y: y(row - inside) } });
    await waitFor(async () => (await num(b, '#heatmap', 'data-layers')) === layers.length, 5000, 'block 1.0 unfolded');
    assert.deepEqual(b.errors, []);
  });

  test('heatmap: one row per layer, n/a rows for layers without weights, field switch', async () => {
    await b.page.goto(`${h.url}#/run/${healthy}`);
    await b.page.waitForSelector('body[data-ready="1"]');
    await waitFor(async () => (await num(b, '#heatmap', 'data-steps')) > 0, 5000, 'heatmap data');
    assert.equal(await num(b, '#heatmap', 'data-layers'), ALEXNET.length);
    const weightless = ALEXNET.filter((l) => l.kind !== 'Conv2d' && l.kind !== 'Linear').length;
    assert.equal(await num(b, '#heatmap', 'data-na-rows'), weightless, 'grad_w_norm does not apply to ReLU/pool/flatten/dropout');
    assert.equal(await num(b, '#heatmap', 'data-nan-cells'), 0);
    await b.page.selectOption('#heat-field', 'grad_out_norm');
    await waitFor(async () => (await num(b, '#heatmap', 'data-na-rows')) === 0, 5000, 'grad_out_norm applies everywhere');
    assert.equal(await num(b, '#heatmap', 'data-layers'), ALEXNET.length);
    // The canvas really has colour in it.
    const painted = await b.page.evaluate(() => {
      const c = document.querySelector('#heatmap-canvas') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
      return n / (c.width * c.height);
    });
    assert.ok(painted > 0.3, `heatmap canvas mostly painted (${painted})`);
    // Bars and over-time charts have data; dead ReLU chart has one series per ReLU.
    await waitFor(async () => (await attr(b, '#layers-at-step', 'data-step')) !== null, 5000, 'bars');
    assert.ok((await num(b, '#bar-actmax', 'data-bars')) === ALEXNET.length);
    assert.ok((await num(b, '#chart-dead', 'data-points')) > 0);
    assert.ok((await num(b, '#chart-ratio', 'data-points')) > 0);
    // Clicking a heatmap column picks that step for the bars.
    await b.page.locator('#heatmap-canvas').click({ position: { x: 160, y: 20 } });
    await waitFor(async () => (await attr(b, '#layers-at-step', 'data-step')) === '1', 5000, 'bars at the clicked (first) step');
    await shot(b.page, 'web-run-healthy');
    assert.deepEqual(b.errors, []);
  });

  test('NaN run: marker on the loss chart opens the locator report; en/zh toggle', async () => {
    await b.page.goto(`${h.url}#/run/${bad}`);
    await b.page.waitForSelector('body[data-ready="1"]');
    await waitFor(async () => (await num(b, '#chart-loss', 'data-points')) === 30, 5000, 'loss points');
    assert.equal(await num(b, '#chart-loss', 'data-nonfinite'), 1);
    const marker = b.page.locator('#chart-loss .nan-marker');
    await marker.waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await marker.getAttribute('data-x'), '30');
    assert.equal(await b.page.locator('#locator').isVisible(), false);
    await marker.click();
    await b.page.locator('#locator').waitFor({ state: 'visible', timeout: 5000 });
    const loc = b.page.locator('#locator .locator-body');
    assert.equal(await loc.getAttribute('data-layer'), '3');
    const text = await loc.innerText();
    assert.match(text, /Conv2d/);
    assert.match(text, /conv2/);
    assert.match(text, /ConvolutionBackward0/);
    assert.match(text, /backward/);
    assert.match(text, /overflowed to Inf/);
    assert.ok((await num(b, '#chart-trail', 'data-points')) === 3);
    // Heatmap shows the NaN cells of the NaN step (layers 0..3 with weights: 0 and 3).
    await waitFor(async () => (await num(b, '#heatmap', 'data-nan-cells')) > 0, 5000, 'NaN cells');
    assert.equal(await num(b, '#heatmap', 'data-nan-cells'), 2);
    await shot(b.page, 'web-run-nan');
    assert.match(await b.page.locator('#verdict .verdict-text').innerText(), /Exploding gradients/);
    await b.page.click('#lang');
    await waitFor(async () => /梯度爆炸/.test(await b.page.locator('#verdict .verdict-text').innerText()), 3000, 'zh verdict');
    assert.match(await b.page.locator('#locator .explanation').innerText(), /反向传播/);
    await shot(b.page, 'web-run-nan-zh');
    await b.page.click('#lang');
    assert.deepEqual(b.errors, []);
  });

  test('compare: overlaid loss for a sweep and its outcome table', async () => {
    await b.page.goto(`${h.url}#/compare?sweep=${sweepId}`);
    await b.page.waitForSelector('body[data-ready="1"]');
    assert.equal(await b.page.locator('#sweep-table tbody tr').count(), 3);
    assert.match(await b.page.locator('#sweep-table thead').innerText(), /seed/);
    assert.equal(await attr(b, '#compare-charts', 'data-runs'), '3');
    assert.equal(await num(b, '#chart-compare-loss', 'data-points'), 40);
    // Untick one run: two left.
    await b.page.locator('#compare-runs input[type=checkbox]').first().uncheck();
    await waitFor(async () => (await attr(b, '#compare-charts', 'data-runs')) === '2', 5000, 'two runs');
    await shot(b.page, 'web-compare');
    // Picking runs on the list page leads here too.
    await b.page.goto(h.url);
    await b.page.waitForSelector('#runs-table');
    await b.page.locator(`tr[data-run="${healthy}"] input`).check();
    await b.page.locator(`tr[data-run="${bad}"] input`).check();
    await b.page.click('#compare-selected');
    await waitFor(async () => (await b.page.locator('#compare-charts').getAttribute('data-runs')) === '2', 5000, 'compare two picked runs');
    assert.deepEqual(b.errors, []);
  });

  test('early warning marker before the NaN marker; the doctor table on the compare page', async () => {
    const parent = writeRun(store, { name: 'alexnet lr=10 (doctored)', steps: 0, growth: 2, trouble: { nanStep: 30, layer: 3 } }).id;
    store.addEvent(parent, 27, 'warning', { step: 27, series: 'fc1', en: 'The loss is 4e6, 1e6x its rolling median 2.3.', zh: '损失为 4e6。' });
    const trials = ['lr=1', 'bn=builtin'].map((fix) => store.createRun({ name: `doctor ${parent}: ${fix}`, parentId: parent, config: { model: 'alexnet', fix } }).id);
    store.addEvent(parent, 59, 'doctor', {
      endStep: 59, trials, best: 'bn=builtin', recommendation: 'recommended: --fix bn=builtin (the cheapest fix that held).',
      rows: [
        { fix: 'lr=1', held: false, firstNonFiniteStep: 31, loss: null, acc: null, verdict: 'non-finite', cost: 0 },
        { fix: 'bn=builtin', held: true, firstNonFiniteStep: null, loss: 0.9, acc: 0.7, verdict: 'healthy', cost: 2 },
      ],
    });
    await b.page.goto(`${h.url}#/run/${parent}`);
    await b.page.waitForSelector('body[data-ready="1"]');
    const warn = b.page.locator('#chart-loss .warn-marker');
    await warn.waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await warn.getAttribute('data-x'), '27');
    assert.ok(Number(await warn.getAttribute('data-x')) < Number(await b.page.locator('#chart-loss .nan-marker').getAttribute('data-x')));
    assert.match((await warn.getAttribute('title')) ?? '', /early warning at step 27/);
    await b.page.goto(`${h.url}#/compare?doctor=${parent}`);
    await b.page.waitForSelector('body[data-ready="1"]');
    assert.equal(await b.page.locator('#doctor-table tbody tr').count(), 2);
    assert.match(await b.page.locator('#doctor-table tr.best').innerText(), /bn=builtin\s+held/);
    assert.match(await b.page.locator('#doctor-table tr[data-fix="lr=1"]').innerText(), /NaN\/Inf at step 31/);
    assert.match(await b.page.locator('#doctor .doctor-rec').innerText(), /recommended: --fix bn=builtin/);
    assert.equal(await attr(b, '#compare-charts', 'data-runs'), '3', 'the run and its two trials overlaid');
    await shot(b.page, 'web-doctor');
    assert.deepEqual(b.errors, []);
  });

  test('a queued sweep\'s cells: queued / running on which worker / done / failed, live', async () => {
    const keys = ['seed=1', 'seed=2', 'seed=3', 'seed=4'];
    const id = store.createSweep({ name: 'queued', grid: { axes: [{ key: 'seed', values: ['1', '2', '3', '4'] }], fixed: [], cellKeys: keys, queue: 'redis://:***@10.0.0.5:6379' } }).id;
    writeRun(store, { name: 'seed 1', layers: LENET, steps: 40, sweepId: id, cellKey: 'seed=1', config: { model: 'lenet', seed: 1 } });
    // A cell in flight, as the coordinator mirrors it: no local pid, the worker's host and last step.
    const held = store.createRun({ name: 'sweep seed=2', sweepId: id, cellKey: 'seed=2', pid: null, host: 'gpu-box', config: { model: 'lenet', seed: 2 } });
    store.updateRun(held.id, { stepsDone: 12 });
    await b.page.goto(`${h.url}#/compare?sweep=${id}`);
    await b.page.waitForSelector('body[data-ready="1"]');
    const state = async (k: string) => b.page.locator(`#sweep-board tr[data-cell="${k}"]`).getAttribute('data-state');
    assert.deepEqual(await Promise.all(keys.map(state)), ['done', 'running', 'queued', 'queued']);
    assert.match(await b.page.locator('#sweep-board tr[data-cell="seed=2"]').innerText(), /gpu-box\s+12/);
    assert.match(await b.page.locator('#sweep-cells').innerText(), /4 cells on redis:\/\/:\*\*\*@10\.0\.0\.5:6379: 2 queued · 1 running · 1 done/);
    // The workers move on; the page follows without a reload.
    store.updateRun(held.id, { stepsDone: 40 });
    store.setStatus(held.id, 'finished');
    store.createRun({ name: 'sweep seed=3', sweepId: id, cellKey: 'seed=3', pid: null, host: 'laptop', config: { model: 'lenet', seed: 3 } });
    const failed = store.createRun({ name: 'sweep seed=4', sweepId: id, cellKey: 'seed=4', status: 'failed', pid: null, host: 'laptop', config: null });
    store.updateRun(failed.id, { error: 'bad config' });
    await waitFor(async () => (await state('seed=4')) === 'failed', 15_000, 'the board to follow the store');
    assert.deepEqual(await Promise.all(keys.map(state)), ['done', 'done', 'running', 'failed']);
    assert.match(await b.page.locator('#sweep-board tr[data-cell="seed=3"]').innerText(), /laptop/);
    await shot(b.page, 'web-sweep-board');
    assert.deepEqual(b.errors, []);
  });

  test('unknown run: an error page, not a crash', async () => {
    await b.page.goto(`${h.url}#/run/does-not-exist`);
    await b.page.waitForSelector('body[data-ready="error"]');
    assert.match(await b.page.locator('.error-page').innerText(), /unknown run/);
    b.errors.length = 0; // the 404 fetch logs a console error by design
  });
});
