// The dashboard server: API shapes, strict parameters, path safety, methods,
// and live streams that clean up after clients that vanish.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type ServerHandle } from '../src/server/index.js';
import { fromJson, openStore, type Store } from '../src/store/index.js';
import { ALEXNET, FIELDS, LENET, probe, stepRow, tmp, waitFor, writeRun } from './web-support.js';

interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw request: the path goes out byte for byte (no URL normalisation). */
function raw(h: ServerHandle, path: string, opts: { method?: string; headers?: Record<string, string | number>; body?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: h.port, path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

async function json<T = any>(h: ServerHandle, path: string): Promise<T> {
  const r = await raw(h, path);
  assert.equal(r.status, 200, `${path}: ${r.body}`);
  return fromJson<T>(r.body);
}

function noStack(body: string): void {
  assert.doesNotMatch(body, /\bat [\w.<>]+ \(|\.ts:\d+|node:internal|Error:/, `stack leaked: ${body}`);
}

describe('dashboard server', () => {
  let root: string;
  let store: Store;
  let h: ServerHandle;
  let healthy: string;
  let bad: string;
  let sweepId: string;
  let webRoot: string;

  before(async () => {
    root = tmp('nanscope-server-');
    store = openStore(root);
    healthy = writeRun(store, { name: 'healthy', steps: 120 }).id;
    bad = writeRun(store, { name: 'nan', layers: LENET, steps: 0, growth: 3, trouble: { nanStep: 37, layer: 3 } }).id;
    const sw = store.createSweep({ name: 'lr grid', grid: { lr: [0.01, 0.1] } });
    sweepId = sw.id;
    writeRun(store, { name: 'cell a', steps: 10, sweepId, cellKey: 'lr=0.01', config: { model: 'alexnet', lr: 0.01 } });
    writeRun(store, { name: 'cell b', steps: 10, sweepId, cellKey: 'lr=0.1', config: { model: 'alexnet', lr: 0.1 } });
    // A small fake web build, and an artifact plus a symlink that points out of the run folder.
    webRoot = join(root, 'web');
    mkdirSync(join(webRoot, 'assets'), { recursive: true });
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(webRoot, 'assets', 'app-1.js'), 'console.log(1)');
    writeFileSync(join(root, 'secret.txt'), 'TOP-SECRET');
    writeFileSync(store.artifactPath(healthy, 'notes.txt'), 'artifact body');
    store.addArtifact(healthy, { kind: 'note', relPath: 'notes.txt' });
    symlinkSync(join(root, 'secret.txt'), join(store.runDir(healthy), 'escape.txt'));
    symlinkSync(join(root, 'secret.txt'), join(webRoot, 'assets', 'escape.js'));
    h = await startServer({ runsRoot: root, port: 0, webRoot, pollMs: 50, log: () => undefined });
  });

  after(async () => {
    await h?.close();
    store?.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('binds 127.0.0.1 by default and checks the Host header', async () => {
    assert.equal(h.host, '127.0.0.1');
    assert.match(h.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal((await raw(h, '/api/health')).status, 200);
    assert.equal((await raw(h, '/api/health', { headers: { Host: `localhost:${h.port}` } })).status, 200);
    const evil = await raw(h, '/api/runs', { headers: { Host: 'evil.example:80' } });
    assert.equal(evil.status, 421);
  });

  test('runs list with filters, run detail, NaN survives JSON', async () => {
    const all = await json(h, '/api/runs');
    assert.equal(all.runs.length, 4);
    assert.ok(all.runs.every((r: any) => !('report' in r)), 'list leaves the report out');
    const div = await json(h, '/api/runs?status=diverged');
    assert.deepEqual(div.runs.map((r: any) => r.id), [bad]);
    assert.equal(div.runs[0].firstNanStep, 37);
    assert.ok(Number.isNaN(div.runs[0].finalLoss));
    assert.equal((await json(h, '/api/runs?status=finished,diverged')).runs.length, 4);
    assert.equal((await json(h, `/api/runs?sweep=${sweepId}`)).runs.length, 2);
    assert.equal((await json(h, '/api/runs?kind=sweep-cell')).runs.length, 2);
    const d = await json(h, `/api/runs/${bad}`);
    assert.equal(d.run.report.layer, '3');
    assert.equal(d.layers.length, LENET.length);
    const ev = await json(h, `/api/runs/${bad}/events?kind=nan`);
    assert.equal(ev.events.length, 1);
    assert.equal(ev.events[0].payload.op, 'ConvolutionBackward0');
  });

  test('steps downsample but keep the NaN step; probes are steps × layers', async () => {
    const full = await json(h, `/api/runs/${bad}/steps`);
    assert.equal(full.every, 1);
    assert.equal(full.cols.step.length, 37);
    assert.ok(Number.isNaN(full.cols.loss[36]));
    assert.equal(full.cols.nonfinite[36], true);
    const thin = await json(h, `/api/runs/${bad}/steps?every=5`);
    assert.deepEqual(thin.cols.step, [5, 10, 15, 20, 25, 30, 35, 37]);
    const capped = await json(h, `/api/runs/${healthy}/steps?max=10`);
    assert.ok(capped.cols.step.length <= 12 && capped.cols.step.length >= 10, `${capped.cols.step.length}`);
    assert.equal(capped.cols.step.at(-1), 120, 'the newest step is kept');
    const range = await json(h, `/api/runs/${healthy}/steps?from=10&to=19`);
    assert.deepEqual(range.cols.step, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);

    const p = await json(h, `/api/runs/${healthy}/probes?fields=grad_w_norm,act_zero_frac&max=30`);
    assert.deepEqual(p.layers, ALEXNET.map((l) => l.name));
    assert.equal(p.kinds[0], 'Conv2d');
    assert.ok(p.steps.length >= 20 && p.steps.length <= 32, `${p.steps.length}`);
    assert.equal(p.series.grad_w_norm.length, p.steps.length * ALEXNET.length);
    assert.ok(Number.isNaN(p.series.grad_w_norm[1]), 'ReLU has no weight gradient: NaN (n/a)');
    assert.ok(p.series.grad_w_norm[0] > 0);
    const all = await json(h, `/api/runs/${bad}/probes?every=10`);
    assert.deepEqual(all.fields, FIELDS);
    assert.ok(all.steps.includes(37) && all.steps.includes(36), 'probes at and before the NaN step survive thinning');

    const one = await json(h, `/api/runs/${bad}/probe?step=37`);
    assert.equal(one.step, 37);
    assert.equal(one.values.length, LENET.length);
    assert.equal(one.values[0].length, FIELDS.length);
    assert.ok(Number.isNaN(one.values[0][FIELDS.indexOf('grad_w_norm')]));
    const near = await json(h, `/api/runs/${bad}/probe?step=1000`);
    assert.equal(near.step, 37);
    assert.equal(near.requested, 1000);
    assert.equal((await raw(h, `/api/runs/${bad}/probe?step=0`)).status, 404);
  });

  test('sweep table lists cells and the config keys that vary', async () => {
    const list = await json(h, '/api/sweeps');
    assert.equal(list.sweeps[0].cells, 2);
    const s = await json(h, `/api/sweeps/${sweepId}`);
    assert.equal(s.cells.length, 2);
    assert.deepEqual(s.varying, ['lr']);
    assert.equal((await raw(h, '/api/sweeps/nope')).status, 404);
  });

  test('unknown run id: 404 JSON without a stack', async () => {
    for (const path of ['/api/runs/nope', '/api/runs/nope/steps', '/api/runs/nope/live', '/api/runs/a%20b', '/api/nothing', `/api/runs/${healthy}/bogus`]) {
      const r = await raw(h, path);
      assert.equal(r.status, 404, path);
      assert.match(String(r.headers['content-type']), /application\/json/);
      const body = JSON.parse(r.body);
      assert.equal(typeof body.error, 'string');
      noStack(r.body);
    }
  });

  test('malformed query parameters: 400', async () => {
    const paths = [
      `/api/runs/${healthy}/steps?every=0`,
      `/api/runs/${healthy}/steps?every=abc`,
      `/api/runs/${healthy}/steps?max=-1`,
      `/api/runs/${healthy}/steps?max=100001`,
      `/api/runs/${healthy}/steps?from=1.5`,
      `/api/runs/${healthy}/steps?from=9&to=3`,
      `/api/runs/${healthy}/steps?from=1&from=2`,
      `/api/runs/${healthy}/steps?bogus=1`,
      `/api/runs/${healthy}/steps?from=99999999999999999999`,
      `/api/runs/${healthy}/probes?fields=not_a_field`,
      `/api/runs/${healthy}/probes?fields=grad_w_norm,,act_max`,
      `/api/runs/${healthy}/probe`,
      `/api/runs/${healthy}/probe?step=x`,
      `/api/runs/${healthy}/events?kind=boom`,
      `/api/runs/${healthy}/live?since=abc`,
      '/api/runs?status=exploded',
      '/api/runs?kind=x',
      '/api/runs?limit=0',
      '/api/runs?sweep=../x',
      '/api/runs/%E0%A4%A',
      '/api/health?x=1',
    ];
    for (const path of paths) {
      const r = await raw(h, path);
      assert.equal(r.status, 400, `${path}: ${r.body}`);
      assert.equal(typeof JSON.parse(r.body).error, 'string');
      noStack(r.body);
    }
  });

  test('path traversal, encoded traversal, absolute paths and symlinks out are refused', async () => {
    const attempts = [
      '/../secret.txt',
      '/../../etc/passwd',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E/%2E%2E/etc/passwd',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%2fsecret.txt',
      '/%252e%252e/secret.txt',
      '/assets/..%5c..%5csecret.txt',
      '//etc/passwd',
      '/%2fetc%2fpasswd',
      '/assets/%00.js',
      '/assets/.',
      '/./index.html',
      `/api/runs/${healthy}/files/../../secret.txt`,
      `/api/runs/${healthy}/files/%2e%2e/%2e%2e/secret.txt`,
      `/api/runs/${healthy}/files/%2fetc%2fpasswd`,
      `/api/runs/${healthy}/files/escape.txt`,
      `/api/runs/..%2f..%2fsecret.txt/files/x`,
      '/assets/escape.js',
      '/nanscope.db',
    ];
    for (const path of attempts) {
      const r = await raw(h, path);
      assert.ok(r.status >= 400 && r.status < 500, `${path} -> ${r.status}`);
      assert.ok(!r.body.includes('TOP-SECRET') && !r.body.includes('root:'), `${path} leaked a file`);
      noStack(r.body);
    }
    // Absolute-form request target.
    const abs = await raw(h, 'http://127.0.0.1/etc/passwd');
    assert.ok(abs.status >= 400 && abs.status < 500, `absolute-form -> ${abs.status}`);
    // What is allowed still works.
    const art = await raw(h, `/api/runs/${healthy}/files/notes.txt`);
    assert.equal(art.status, 200);
    assert.equal(art.body, 'artifact body');
    const js = await raw(h, '/assets/app-1.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.equal(js.headers['x-content-type-options'], 'nosniff');
    const index = await raw(h, '/');
    assert.equal(index.status, 200);
    assert.match(String(index.headers['content-security-policy']), /default-src 'self'/);
  });

  test('only GET/HEAD; big bodies 413', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await raw(h, '/api/runs', { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
    const big = await raw(h, '/api/runs', { method: 'POST', headers: { 'Content-Length': 2 * 1024 * 1024 } });
    assert.equal(big.status, 413);
    const chunked = await raw(h, '/api/runs', { headers: { 'Transfer-Encoding': 'chunked' }, body: 'x'.repeat(100) });
    assert.equal(chunked.status, 413);
    const head = await raw(h, `/api/runs/${healthy}`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  test('front end not built: a helpful page instead of an error', async () => {
    const empty = tmp('nanscope-noweb-');
    const h2 = await startServer({ runsRoot: root, port: 0, webRoot: empty, log: () => undefined });
    try {
      const r = await raw(h2, '/');
      assert.equal(r.status, 200);
      assert.match(r.body, /npx vite build web/);
      assert.equal((await raw(h2, '/assets/x.js')).status, 404);
    } finally {
      await h2.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('live stream pushes only new rows; disconnects mid-stream free their timers', async () => {
    const live = store.createRun({ name: 'live', config: { model: 'lenet' } });
    store.setLayers(live.id, LENET, FIELDS);
    store.logSteps(live.id, [stepRow(1, 10), stepRow(2, 10)], [{ step: 2, values: probe(LENET, 2) }]);
    const got: { event: string; data: any }[] = [];
    const ctrl = new AbortController();
    const res = await fetch(`${h.url}api/runs/${live.id}/live`, { signal: ctrl.signal });
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get('content-type')), /text\/event-stream/);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    const pump = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (ev && data) got.push({ event: ev, data: fromJson(data) });
          }
        }
      } catch {
        // aborted
      }
    })();
    await waitFor(() => got.some((m) => m.event === 'run'), 3000, 'first run message');
    assert.ok(!got.some((m) => m.event === 'steps'), 'nothing old is replayed');
    await waitFor(() => h.liveStreams() === 1, 2000, 'stream registered');
    store.logSteps(live.id, [stepRow(3, 10), stepRow(4, 10)], [{ step: 4, values: probe(LENET, 4) }]);
    await waitFor(() => got.some((m) => m.event === 'steps'), 3000, 'steps message');
    const steps = got.filter((m) => m.event === 'steps').flatMap((m) => m.data.step);
    assert.deepEqual(steps, [3, 4]);
    await waitFor(() => got.some((m) => m.event === 'probes' && m.data.latest === 4), 3000, 'probes message');
    store.logEpoch(live.id, { epoch: 0, loss: NaN, trainAcc: 0.5, testAcc: null });
    await waitFor(() => got.some((m) => m.event === 'epochs'), 3000, 'epochs message');
    assert.ok(Number.isNaN(got.find((m) => m.event === 'epochs')!.data[0].loss));
    store.addEvent(live.id, 4, 'note', { text: 'hello' });
    await waitFor(() => got.some((m) => m.event === 'events'), 3000, 'events message');
    store.setStatus(live.id, 'finished');
    await waitFor(() => got.some((m) => m.event === 'run' && m.data.status === 'finished'), 3000, 'status change');

    // Client vanishes mid-stream.
    ctrl.abort();
    await pump;
    await waitFor(() => h.liveStreams() === 0, 3000, 'stream cleaned up after abort');

    // Raw sockets that drop right after the request, many times over.
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve) => {
        const s = connect(h.port, '127.0.0.1', () => {
          s.write(`GET /api/runs/${live.id}/live HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\n\r\n`);
          s.once('data', () => {
            s.destroy();
            resolve();
          });
        });
        s.on('error', () => resolve());
      });
    }
    await waitFor(() => h.liveStreams() === 0, 3000, 'all dropped streams cleaned up');
    // Still serving, and the stream for a deleted run ends.
    assert.equal((await raw(h, '/api/health')).status, 200);
    const gone = store.createRun({ name: 'gone' });
    const res2 = await fetch(`${h.url}api/runs/${gone.id}/live`);
    await waitFor(() => h.liveStreams() === 1, 2000, 'second stream');
    store.deleteRun(gone.id);
    const text = await res2.text(); // resolves once the server ends the stream
    assert.match(text, /event: gone/);
    await waitFor(() => h.liveStreams() === 0, 2000, 'gone stream cleaned up');
  });

  test('close() ends open streams and returns promptly', async () => {
    const h2 = await startServer({ runsRoot: root, port: 0, webRoot, pollMs: 50, log: () => undefined });
    const res = await fetch(`${h2.url}api/runs/${healthy}/live`);
    assert.equal(res.status, 200);
    await waitFor(() => h2.liveStreams() === 1, 2000, 'stream open');
    const t0 = Date.now();
    await h2.close();
    assert.equal(h2.liveStreams(), 0);
    assert.ok(Date.now() - t0 < 2000);
    await res.body?.cancel().catch(() => undefined);
  });
});
