// Loading + verification of the real Fashion-MNIST files (Debian's
// dataset-fashion-mnist in /usr/share/datasets/fashion-mnist), and rejection
// of corrupted copies. Other data tests: data-idx, data-download,
// data-resize, data-loader (run all with: node --import tsx --test test/data*.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  DataError,
  FILE_NAMES,
  SYSTEM_DIR,
  defaultCacheDir,
  loadFashionMnist,
  locateFashionMnist,
  type FileName,
} from '../src/data/index.js';

const tmpRoot = mkdtempSync(join(tmpdir(), 'nanscope-data-'));
test.after(() => rmSync(tmpRoot, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = (): string => {
  const d = join(tmpRoot, `d${dirCount++}`);
  mkdirSync(d);
  return d;
};
const sysGz = (name: FileName): string => join(SYSTEM_DIR, `${name}.gz`);
const rawBytes = (name: FileName): Buffer => gunzipSync(readFileSync(sysGz(name)));

/** A data dir with symlinks to the real files, except `replace`, written as given. */
function dirWith(replace: FileName, fileName: string, bytes: Uint8Array | null): string {
  const d = freshDir();
  for (const name of FILE_NAMES) if (name !== replace) symlinkSync(sysGz(name), join(d, `${name}.gz`));
  if (bytes) writeFileSync(join(d, fileName), bytes);
  return d;
}

async function rejects(dir: string, fileName: string, pattern: RegExp): Promise<DataError> {
  let caught: unknown;
  try {
    await loadFashionMnist({ dataDir: dir });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof DataError, `expected DataError, got ${String(caught)}`);
  assert.ok(caught.file.endsWith(fileName), `error should name ${fileName}: ${caught.file}`);
  assert.ok(caught.message.includes(fileName), caught.message);
  assert.match(caught.message, pattern);
  assert.ok(caught.fix.length > 0 && caught.message.includes('Fix:'), caught.message);
  return caught;
}

test('loads the real files: counts, classes, known values', async () => {
  const d = await loadFashionMnist({ dataDir: SYSTEM_DIR });
  assert.equal(d.source, SYSTEM_DIR);
  assert.equal(d.train.n, 60000);
  assert.equal(d.test.n, 10000);
  assert.equal(d.train.images.length, 60000 * 784);
  assert.equal(d.test.images.length, 10000 * 784);
  for (const [split, per] of [[d.train, 6000], [d.test, 1000]] as const) {
    const counts = new Array<number>(10).fill(0);
    for (const l of split.labels) counts[l]++;
    assert.deepEqual(counts, new Array<number>(10).fill(per));
  }
  // Values read once from the real files with numpy and hard-coded here.
  assert.deepEqual([...d.train.labels.subarray(0, 12)], [9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9]);
  assert.deepEqual([...d.test.labels.subarray(0, 12)], [9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5]);
  const img0 = d.train.images.subarray(0, 784);
  assert.equal(img0.filter((v) => v !== 0).length, 433);
  assert.equal(img0.reduce((a, v) => a + v, 0), 76247);
  assert.equal(img0[14 * 28 + 14], 217);
  const t0 = d.test.images.subarray(0, 784);
  assert.equal(t0.filter((v) => v !== 0).length, 267);
  assert.equal(t0.reduce((a, v) => a + v, 0), 33456);
});

test('second load is served from the per-process cache', async () => {
  const a = await loadFashionMnist({ dataDir: SYSTEM_DIR });
  const b = await loadFashionMnist({ dataDir: SYSTEM_DIR });
  assert.equal(a.train, b.train);
  assert.equal(a.test.images, b.test.images);
});

test('uncompressed files in a dataDir are accepted', async () => {
  const d = freshDir();
  for (const name of FILE_NAMES) {
    if (name.startsWith('t10k')) writeFileSync(join(d, name), rawBytes(name));
    else symlinkSync(sysGz(name), join(d, `${name}.gz`));
  }
  const ds = await loadFashionMnist({ dataDir: d });
  assert.equal(ds.test.n, 10000);
  assert.equal(ds.test.labels[0], 9);
});

test('stratified limits: per-class counts, file order, remainder to the first classes', async () => {
  const full = await loadFashionMnist({ dataDir: SYSTEM_DIR });
  const d = await loadFashionMnist({ dataDir: SYSTEM_DIR, limitTrain: 1005, limitTest: 30 });
  assert.equal(d.train.n, 1005);
  assert.equal(d.train.images.length, 1005 * 784);
  const counts = new Array<number>(10).fill(0);
  for (const l of d.train.labels) counts[l]++;
  assert.deepEqual(counts, [101, 101, 101, 101, 101, 100, 100, 100, 100, 100]);
  // Rebuild the expected subset by a plain file-order scan and compare exactly.
  const quota = counts.slice();
  let k = 0;
  for (let i = 0; i < full.train.n && k < 1005; i++) {
    const c = full.train.labels[i];
    if (quota[c] === 0) continue;
    quota[c]--;
    assert.equal(d.train.labels[k], c);
    assert.deepEqual(d.train.images.subarray(k * 784, (k + 1) * 784), full.train.images.subarray(i * 784, (i + 1) * 784));
    k++;
  }
  assert.equal(d.test.n, 30);
  const tc = new Array<number>(10).fill(0);
  for (const l of d.test.labels) tc[l]++;
  assert.deepEqual(tc, new Array<number>(10).fill(3));
  const all = await loadFashionMnist({ dataDir: SYSTEM_DIR, limitTest: 10000 });
  assert.deepEqual(all.test.labels, full.test.labels);
});

test('bad limits are clear errors', async () => {
  for (const [opt, v] of [['limitTrain', 0], ['limitTrain', -5], ['limitTrain', 60001], ['limitTest', 10001], ['limitTest', 2.5]] as const) {
    await assert.rejects(loadFashionMnist({ dataDir: SYSTEM_DIR, [opt]: v }), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.match(e.message, new RegExp(`${opt}: expected a limit`));
      return true;
    });
  }
});

test('truncated .gz is rejected naming the file', async () => {
  const gz = readFileSync(sysGz('t10k-labels-idx1-ubyte'));
  const d = dirWith('t10k-labels-idx1-ubyte', 't10k-labels-idx1-ubyte.gz', gz.subarray(0, gz.length >> 1));
  await rejects(d, 't10k-labels-idx1-ubyte.gz', /gzip/);
});

test('corrupt gzip stream is rejected naming the file', async () => {
  const gz = Buffer.from(readFileSync(sysGz('train-labels-idx1-ubyte')));
  for (let i = 200; i < 240; i++) gz[i] ^= 0x5a;
  const d = dirWith('train-labels-idx1-ubyte', 'train-labels-idx1-ubyte.gz', gz);
  await rejects(d, 'train-labels-idx1-ubyte.gz', /corrupt gzip/);
});

test('wrong magic is rejected', async () => {
  const b = Buffer.from(rawBytes('t10k-labels-idx1-ubyte'));
  b[3] = 0x03;
  const d = dirWith('t10k-labels-idx1-ubyte', 't10k-labels-idx1-ubyte', b);
  await rejects(d, 't10k-labels-idx1-ubyte', /expected IDX magic 0x00000801, found magic 0x00000803/);
});

test('label count mismatch is rejected', async () => {
  const b = Buffer.from(rawBytes('train-labels-idx1-ubyte')).subarray(0, 60007);
  b.writeUInt32BE(59999, 4);
  const d = dirWith('train-labels-idx1-ubyte', 'train-labels-idx1-ubyte', b);
  await rejects(d, 'train-labels-idx1-ubyte', /expected 60000 labels, found 59999 labels/);
});

test('label out of range is rejected', async () => {
  const b = Buffer.from(rawBytes('t10k-labels-idx1-ubyte'));
  b[8 + 123] = 10;
  const d = dirWith('t10k-labels-idx1-ubyte', 't10k-labels-idx1-ubyte', b);
  await rejects(d, 't10k-labels-idx1-ubyte', /label 10 at index 123/);
});

test('one flipped pixel byte is a checksum mismatch', async () => {
  const b = Buffer.from(rawBytes('t10k-images-idx3-ubyte'));
  b[16 + 5000] ^= 1;
  const d = dirWith('t10k-images-idx3-ubyte', 't10k-images-idx3-ubyte', b);
  await rejects(d, 't10k-images-idx3-ubyte', /expected sha256 5b4141f0.*found sha256 [0-9a-f]{64}/);
});

test('truncated uncompressed images are rejected', async () => {
  const b = rawBytes('t10k-images-idx3-ubyte').subarray(0, 7840016 - 784);
  const d = dirWith('t10k-images-idx3-ubyte', 't10k-images-idx3-ubyte', b);
  await rejects(d, 't10k-images-idx3-ubyte', /file truncated/);
});

test('images that are not 28x28 are rejected', async () => {
  const b = Buffer.from(rawBytes('t10k-images-idx3-ubyte'));
  b.writeUInt32BE(20000, 4); // same byte length as 10000x28x28
  b.writeUInt32BE(14, 12);
  const d = dirWith('t10k-images-idx3-ubyte', 't10k-images-idx3-ubyte', b);
  await rejects(d, 't10k-images-idx3-ubyte', /expected 28x28 images, found 28x14/);
});

test('missing file in an explicit dataDir is an error, not a fall-through', async () => {
  const d = dirWith('train-images-idx3-ubyte', '', null);
  const e = await rejects(d, 'train-images-idx3-ubyte', /missing: train-images-idx3-ubyte/);
  assert.equal(e.file, join(d, 'train-images-idx3-ubyte'));
  await assert.rejects(loadFashionMnist({ dataDir: join(tmpRoot, 'nope') }), /no such directory/);
});

// ---- search order (locate only checks presence, so empty files suffice) ----

function fakeDir(names: readonly FileName[] = FILE_NAMES): string {
  const d = freshDir();
  for (const n of names) writeFileSync(join(d, `${n}.gz`), '');
  return d;
}

test('search order: dataDir > FASHION_MNIST_DIR > cache > system', async () => {
  const a = fakeDir();
  const b = fakeDir();
  const cache = fakeDir();
  const sys = fakeDir();
  const base = { cacheDir: cache, systemDirs: [sys] };
  assert.equal((await locateFashionMnist({ ...base, dataDir: a, env: { FASHION_MNIST_DIR: b } })).dir, a);
  const viaEnv = await locateFashionMnist({ ...base, env: { FASHION_MNIST_DIR: b } });
  assert.deepEqual([viaEnv.dir, viaEnv.kind], [b, 'env']);
  assert.deepEqual([(await locateFashionMnist({ ...base, env: {} })).kind], ['cache']);
  const partialCache = fakeDir(FILE_NAMES.slice(0, 2));
  const l = await locateFashionMnist({ cacheDir: partialCache, systemDirs: [sys], env: {} });
  assert.deepEqual([l.dir, l.kind], [sys, 'system']);
  assert.equal(l.files['train-images-idx3-ubyte'], join(sys, 'train-images-idx3-ubyte.gz'));
  // An explicit env dir lacking files does not fall through to the system copy.
  await assert.rejects(locateFashionMnist({ ...base, env: { FASHION_MNIST_DIR: fakeDir(FILE_NAMES.slice(1)) } }), DataError);
});

test('default cache dir honours XDG_CACHE_HOME', () => {
  assert.equal(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' }), '/x/cache/nanscope/fashion-mnist');
  assert.match(defaultCacheDir({}), /\/\.cache\/nanscope\/fashion-mnist$/);
});

test('with no local copy the official URL is fetched into the cache', async () => {
  const cache = join(freshDir(), 'cache');
  const urls: string[] = [];
  await assert.rejects(
    locateFashionMnist({
      cacheDir: cache,
      systemDirs: [],
      env: {},
      progress: { write: () => true },
      fetch: async (url) => {
        urls.push(url);
        return { ok: false, status: 404, statusText: 'Not Found', headers: { get: () => null }, body: null };
      },
    }),
    /HTTP 404/,
  );
  assert.deepEqual(urls, ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz']);
});

test('default resolution without options finds the system copy', async () => {
  const d = await loadFashionMnist({ env: {}, cacheDir: freshDir() });
  assert.equal(d.source, SYSTEM_DIR);
});
