// The dashboard watching REAL training runs (src/cli/main.ts train, LeNet on
// a slice of Fashion-MNIST): the page opens while the run is going and
// follows it to the end; a run with an absurd learning rate goes NaN and the
// page shows the marker and the layer the locator found.
import { describeMachine } from '../src/store/index.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type ServerHandle } from '../src/server/index.js';
import { openStore, type RunRow, type Store } from '../src/store/index.js';
import { REPO, ensureWebBuilt, launch, shot, tmp, waitFor, type Browser } from './web-support.js';

const ADDON = join(REPO, 'native/build/Release/nanscope_native.node');
const BASE = ['--model', 'lenet', '--resize', '28', '--limit-train', '3200', '--limit-test', '256', '--epochs', '2', '--batch-size', '32', '--threads', '1'];
// `--lr 50 --activation relu` does not go NaN (the loss reaches ~1e26, then every ReLU dies and
// training limps on); --lr 200 overflows float32 in fc2's forward pass at step 6.
const NAN_FLAGS = ['--lr', '200', '--activation', 'relu'];

interface Training {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function train(root: string, extra: string[] = []): Training {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/main.ts'), 'train', ...BASE, ...extra, '--runs-dir', root], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exit };
}

const skip = existsSync(ADDON) ? false : 'native addon not built (npm run build:native)';

describe('dashboard on real training runs', () => {
  let root: string;
  let store: Store;
  let h: ServerHandle;
  let b: Browser;
  const children: ChildProcess[] = [];

  before(async () => {
    if (skip) return;
    ensureWebBuilt();
    root = tmp('nanscope-train-e2e-');
    h = await startServer({ runsRoot: root, port: 0, pollMs: 100, log: () => undefined });
    store = openStore(root);
    b = await launch();
  });

  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await b?.close();
    await h?.close();
    store?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** Start training and open its run page as soon as the run row exists. */
  async function watch(extra: string[]): Promise<{ t: Training; run: RunRow; sawRunning: boolean; pointsSeen: number[] }> {
    const known = new Set(store.listRuns().map((r) => r.id));
    const t = train(root, extra);
    children.push(t.child);
    let run: RunRow | undefined;
    await waitFor(() => {
      run = store.listRuns().find((r) => !known.has(r.id));
      if (!run && t.child.exitCode !== null) throw new Error(`training exited (${t.child.exitCode}) without a run:\n${t.output()}`);
      return run !== undefined;
    }, 60_000, 'the training run to appear');
    await b.page.goto(`${h.url}#/run/${run!.id}`);
    await b.page.waitForSelector('body[data-ready="1"]', { timeout: 15_000 });
    const badge = (): Promise<string> => b.page.locator('h1 .badge').first().innerText();
    const sawRunning = /running/.test(await badge());
    const pointsSeen: number[] = [];
    let code: number | null | undefined;
    void t.exit.then((c) => (code = c));
    await waitFor(async () => {
      const p = Number(await b.page.getAttribute('#chart-loss', 'data-points'));
      if (pointsSeen.at(-1) !== p) pointsSeen.push(p);
      return code !== undefined && !/running/.test(await badge());
    }, 60_000, 'training to end and the page to show it');
    return { t, run: store.getRun(run!.id)!, sawRunning, pointsSeen };
  }

  test('a short real run, watched live to the end', { skip }, async (ctx) => {
    const { t, run, sawRunning, pointsSeen } = await watch([]);
    ctx.diagnostic(`page saw status running: ${sawRunning}; loss points seen: ${pointsSeen.join(' -> ')}`);
    assert.equal(await t.exit, 0, t.output());
    assert.equal(run.status, 'finished');
    const steps = store.getSteps(run.id).length;
    assert.equal(steps, 200, '3200 images / 32 per batch × 2 epochs');
    await waitFor(async () => Number(await b.page.getAttribute('#chart-loss', 'data-points')) === steps, 5000, 'every step on the loss chart');
    await waitFor(async () => Number(await b.page.getAttribute('#chart-acc', 'data-points')) === 2, 5000, 'both epochs on the accuracy chart');
    await waitFor(async () => Number(await b.page.getAttribute('#heatmap', 'data-steps')) > 0, 8000, 'heatmap');
    assert.equal(Number(await b.page.getAttribute('#heatmap', 'data-layers')), store.getLayers(run.id).length);
    assert.match(await b.page.locator('h1 .badge').first().innerText(), /finished/);
    assert.match(await b.page.locator('#verdict').innerText(), /Verdict/);
    // Histograms of the step the bars show (the last one: step 200; recorded every 10 steps,
    // so the newest is step 191): every layer's activations, bars drawn, step labelled.
    assert.deepEqual(store.histogramSteps(run.id), Array.from({ length: 20 }, (_, i) => 1 + 10 * i));
    await waitFor(async () => (await b.page.getAttribute('#histograms', 'data-step')) === '191', 8000, 'histograms of step 191');
    assert.ok(Number(await b.page.getAttribute('#hist-act', 'data-bars')) > 3, 'activation histogram has bars');
    assert.ok(Number(await b.page.getAttribute('#hist-grad', 'data-bars')) > 3, 'gradient histogram has bars');
    assert.equal(await b.page.locator('#hist-layer option').count(), store.getLayers(run.id).length);
    await b.page.selectOption('#hist-layer', String(store.getLayers(run.id).length - 1));
    await waitFor(async () => Number(await b.page.getAttribute('#hist-act', 'data-bars')) > 0, 5000, 'last layer histogram');
    // Live: the page was open while the run was still going and saw points arrive.
    const grew = pointsSeen.some((p, i) => i > 0 && p > pointsSeen[i - 1]);
    assert.ok(sawRunning || grew, `the page never saw the run live (points seen: ${pointsSeen.join(' -> ')})`);
    await shot(b.page, 'web-train-live');
    assert.deepEqual(b.errors, []);
  });

  test('a real run that goes NaN: marker and the located layer', { skip }, async () => {
    const { t, run } = await watch(NAN_FLAGS);
    assert.equal(await t.exit, 3, `exit code 3 = diverged\n${t.output()}`);
    assert.equal(run.status, 'diverged');
    const report = run.report as { layer: string | null; step: number };
    assert.ok(report && run.firstNanStep !== null, 'the locator wrote a report');
    await waitFor(async () => /diverged/.test(await b.page.locator('h1 .badge').first().innerText()), 5000, 'diverged badge');
    // Where a run goes NaN depends on the machine: the page says which one, as the store recorded it.
    assert.equal(await b.page.locator('.run-head .machine').innerText(), `machine: ${describeMachine(run.machine!)}`);
    assert.match(await b.page.locator('.run-head .machine').innerText(), /, 1 thread, libtorch /);
    const marker = b.page.locator('#chart-loss .nan-marker').first();
    await marker.waitFor({ state: 'visible', timeout: 5000 });
    await marker.click();
    await b.page.locator('#locator').waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await b.page.getAttribute('#locator .locator-body', 'data-layer'), report.layer ?? '');
    assert.equal(await b.page.getAttribute('#locator .locator-body', 'data-step'), String(report.step));
    if (report.layer !== null) assert.match(await b.page.locator('#locator').innerText(), new RegExp(`layer ${report.layer}\\b`));
    await shot(b.page, 'web-train-nan');
    assert.deepEqual(b.errors, []);
  });
});
