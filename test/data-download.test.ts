// Downloads against a local HTTP server on 127.0.0.1 (no internet here):
// success, connection cut off midway, corrupt body, HTTP error, stalled
// server, retry after failure, and a full first-run download + load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DataError, SYSTEM_DIR, downloadFile, loadFashionMnist, type FileName } from '../src/data/index.js';

const tmpRoot = mkdtempSync(join(tmpdir(), 'nanscope-dl-'));
let n = 0;
const freshDir = (): string => join(tmpRoot, `c${n++}`);
const quiet = { write: (): boolean => true };

type Mode = 'ok' | 'cut' | 'corrupt' | 'wrong' | 'missing' | 'stall';
let mode: Mode = 'ok';
let hits = 0;

function serve(res: ServerResponse, body: Buffer): void {
  if (mode === 'wrong') res.writeHead(200); // chunked: no Content-Length
  else res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  if (mode === 'cut') {
    // Send the first half, then drop the connection mid-body.
    res.write(body.subarray(0, body.length >> 1), () => res.destroy());
  } else if (mode === 'stall') {
    res.write(body.subarray(0, 10)); // then never finish
  } else if (mode === 'wrong') {
    // A perfectly valid gzip of the wrong bytes: only the checksum can tell.
    const raw = gunzipSync(body);
    raw[raw.length - 1] ^= 1;
    res.end(gzipSync(raw));
  } else if (mode === 'corrupt') {
    const bad = Buffer.from(body);
    for (let i = 100; i < bad.length; i += 97) bad[i] ^= 0xff;
    res.end(bad);
  } else {
    res.end(body);
  }
}

const server: Server = createServer((req, res) => {
  hits++;
  const name = (req.url ?? '').replace(/^\//, '');
  if (mode === 'missing' || !/^(train|t10k)-(images-idx3|labels-idx1)-ubyte\.gz$/.test(name)) {
    res.writeHead(404).end('nope');
    return;
  }
  serve(res, readFileSync(join(SYSTEM_DIR, name)));
});
let baseUrl = '';
test.before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(() => {
  server.closeAllConnections();
  server.close();
  rmSync(tmpRoot, { recursive: true, force: true });
});

const NAME: FileName = 't10k-labels-idx1-ubyte';

async function expectFailure(dir: string, re: RegExp, extra: { idleTimeoutMs?: number } = {}): Promise<void> {
  await assert.rejects(downloadFile(NAME, dir, { baseUrl, progress: quiet, ...extra }), (e: unknown) => {
    assert.ok(e instanceof DataError, String(e));
    assert.ok(e.message.includes(`${NAME}.gz`), e.message);
    assert.match(e.message, re);
    assert.match(e.fix, /re-run/);
    return true;
  });
  // Nothing left behind: neither the part file nor a final file.
  assert.deepEqual(readdirSync(dir), []);
}

test('download succeeds, verifies and renames into place', async () => {
  mode = 'ok';
  const dir = freshDir();
  const lines: string[] = [];
  const p = await downloadFile(NAME, dir, { baseUrl, progress: { write: (s: string) => lines.push(s) } });
  assert.equal(p, join(dir, `${NAME}.gz`));
  assert.deepEqual(readdirSync(dir), [`${NAME}.gz`]);
  assert.deepEqual(readFileSync(p), readFileSync(join(SYSTEM_DIR, `${NAME}.gz`)));
  assert.equal(lines.length, 1, 'non-TTY progress is one line');
  assert.match(lines[0], /downloading t10k-labels-idx1-ubyte\.gz/);
});

test('download cut off midway: clear error, no partial file', async () => {
  mode = 'cut';
  await expectFailure(freshDir(), /cut off/);
});

test('corrupt body: rejected by gzip/checksum, no partial file', async () => {
  mode = 'corrupt';
  await expectFailure(freshDir(), /gzip|sha256/);
});

test('valid gzip of the wrong bytes: checksum mismatch, no partial file', async () => {
  mode = 'wrong';
  await expectFailure(freshDir(), /expected sha256 0402a96d.*corrupt download/);
});

test('HTTP error is reported', async () => {
  mode = 'missing';
  await expectFailure(freshDir(), /HTTP 404/);
});

test('a stalled server hits the idle timeout instead of hanging', async () => {
  mode = 'stall';
  await expectFailure(freshDir(), /no data for 300 ms/, { idleTimeoutMs: 300 });
});

test('after a failed download the next run retries and succeeds', async () => {
  const dir = freshDir();
  mode = 'cut';
  await expectFailure(dir, /cut off/);
  mode = 'ok';
  await downloadFile(NAME, dir, { baseUrl, progress: quiet });
  assert.ok(existsSync(join(dir, `${NAME}.gz`)));
});

test('TTY progress redraws one line in place', async () => {
  mode = 'ok';
  let out = '';
  await downloadFile('train-labels-idx1-ubyte', freshDir(), { baseUrl, progress: { isTTY: true, write: (s: string) => (out += s) } });
  assert.match(out, /\n$/);
  assert.ok(!out.slice(0, -1).includes('\n'));
});

test('first run with no local copy downloads all four files (injected fetch) and loads them', async () => {
  mode = 'ok';
  const cache = freshDir();
  const urls: string[] = [];
  hits = 0;
  const d = await loadFashionMnist({
    env: {},
    cacheDir: cache,
    systemDirs: [],
    progress: quiet,
    // Default (official) URLs, redirected to the local server.
    fetch: (url, init) => {
      urls.push(url);
      return fetch(url.replace('http://fashion-mnist.s3-website.eu-central-1.amazonaws.com', baseUrl), init);
    },
  });
  assert.equal(hits, 4);
  assert.ok(urls.every((u) => u.startsWith('http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/')));
  assert.equal(d.source, cache);
  assert.equal(d.train.n, 60000);
  assert.equal(readdirSync(cache).sort().join(','), [
    't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
  ].join(','));
});
