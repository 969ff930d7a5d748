// DataLoader over the real test split: deterministic seeded order, coverage,
// batch sizes, content, resume, and the once-per-process resize cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataLoader, SYSTEM_DIR, loadFashionMnist, permutation, resizeCacheFor, resizeImage, resizeCacheBudgetMB, RESIZE_CACHE_MB } from '../src/data/index.js';

const data = await loadFashionMnist({ dataDir: SYSTEM_DIR });
const split = data.test; // 10000 images

test('same seed and epoch give the same order; epochs and seeds differ', () => {
  const a = new DataLoader(split, { batchSize: 256, shuffle: true, seed: 42 });
  const b = new DataLoader(split, { batchSize: 100, shuffle: true, seed: 42 });
  assert.deepEqual(a.order(0), b.order(0));
  assert.deepEqual(a.order(3), b.order(3));
  assert.notDeepEqual(a.order(0), a.order(1));
  assert.notDeepEqual(a.order(0), new DataLoader(split, { batchSize: 256, shuffle: true, seed: 43 }).order(0));
  // Pinned: changing the PRNG would silently change every resumed run's data order.
  assert.deepEqual([...a.order(0).subarray(0, 6)], [1795, 8416, 6105, 9606, 8710, 5093]);
  assert.deepEqual([...permutation(10, 42, 0)], [2, 1, 9, 8, 7, 4, 0, 5, 3, 6]);
  assert.deepEqual([...permutation(10, 42, 1)], [6, 2, 8, 1, 5, 7, 3, 9, 4, 0]);
  // Seeds beyond 32 bits and negative seeds are mixed in, not truncated.
  assert.deepEqual([...permutation(10, 2 ** 40, 0)], [5, 4, 2, 3, 7, 6, 8, 9, 0, 1]);
  assert.notDeepEqual(permutation(100, 2 ** 40, 0), permutation(100, 0, 0));
  assert.notDeepEqual(permutation(100, -1, 0), permutation(100, 2 ** 32 - 1, 0));
});

test('without shuffle the order is file order', () => {
  const l = new DataLoader(split, { batchSize: 1000, shuffle: false, seed: 9 });
  assert.deepEqual(l.order(5), Uint32Array.from({ length: 10000 }, (_, i) => i));
});

test('every index exactly once per epoch; last partial batch kept', () => {
  const l = new DataLoader(split, { batchSize: 256, shuffle: true, seed: 7 });
  assert.equal(l.numBatches, 40);
  const seen = new Uint8Array(split.n);
  const sizes: number[] = [];
  for (const b of l.batches(2)) {
    sizes.push(b.size);
    assert.equal(b.pixels.length, b.size * 784);
    assert.equal(b.labels.length, b.size);
    for (const i of b.indices) seen[i]++;
  }
  assert.equal(sizes.length, 40);
  assert.ok(sizes.slice(0, 39).every((s) => s === 256));
  assert.equal(sizes[39], 10000 - 39 * 256);
  assert.ok(seen.every((c) => c === 1));
  const dl = new DataLoader(split, { batchSize: 256, shuffle: true, seed: 7, dropLast: true });
  assert.equal(dl.numBatches, 39);
  assert.equal([...dl.batches(0)].length, 39);
});

test('batch content: contiguous images and labels in order', () => {
  const l = new DataLoader(split, { batchSize: 64, shuffle: true, seed: 1 });
  const b = l.batch(0, 3);
  assert.deepEqual(b.indices, l.order(0).subarray(192, 256));
  for (let j = 0; j < b.size; j++) {
    const i = b.indices[j];
    assert.equal(b.labels[j], split.labels[i]);
    assert.deepEqual(b.pixels.subarray(j * 784, (j + 1) * 784), split.images.subarray(i * 784, (i + 1) * 784));
  }
});

test('resuming at (epoch, batch) yields exactly the remaining batches', () => {
  const l = new DataLoader(split, { batchSize: 500, shuffle: true, seed: 11 });
  const full = [...l.batches(4)];
  const resumed = [...new DataLoader(split, { batchSize: 500, shuffle: true, seed: 11 }).batches(4, 13)];
  assert.equal(resumed.length, full.length - 13);
  resumed.forEach((b, k) => {
    assert.equal(b.index, 13 + k);
    assert.deepEqual(b.indices, full[13 + k].indices);
    assert.deepEqual(b.pixels, full[13 + k].pixels);
  });
  assert.throws(() => [...l.batches(0, 21)], RangeError);
});

test('resized batches: lazy per-process cache, warm() fills it, content matches resizeImage', async () => {
  const small = (await loadFashionMnist({ dataDir: SYSTEM_DIR, limitTest: 300 })).test;
  const cache = resizeCacheFor(small, 96)!;
  const l = new DataLoader(small, { batchSize: 32, shuffle: true, seed: 5, resize: 96 });
  assert.equal(cache.resized, 0);
  const b = l.batch(0, 0);
  assert.equal(cache.resized, 32);
  assert.equal(b.pixels.length, 32 * 96 * 96);
  for (const j of [0, 17, 31]) {
    const i = b.indices[j];
    assert.deepEqual(b.pixels.subarray(j * 9216, (j + 1) * 9216), resizeImage(small.images.subarray(i * 784, (i + 1) * 784), 28, 96));
  }
  // A second loader on the same split and size shares the cache: nothing is resized again.
  const l2 = new DataLoader(small, { batchSize: 32, shuffle: true, seed: 5, resize: 96 });
  assert.deepEqual(l2.batch(0, 0).pixels, b.pixels);
  assert.equal(cache.resized, 32);
  l2.warm();
  assert.equal(cache.resized, 300);
  assert.equal(l2.numBatches, 10);
  assert.equal(l2.batch(0, 9).size, 300 - 9 * 32);
});

test('resize cache budget: NANSCOPE_RESIZE_CACHE_MB or 1024; a split past it gets no cache; a bad value is an error', async () => {
  assert.equal(resizeCacheBudgetMB({}), RESIZE_CACHE_MB);
  assert.equal(resizeCacheBudgetMB({ NANSCOPE_RESIZE_CACHE_MB: '0' }), 0);
  assert.equal(resizeCacheBudgetMB({ NANSCOPE_RESIZE_CACHE_MB: '2.5' }), 2.5);
  for (const bad of ['lots', '-1', 'Infinity']) assert.throws(() => resizeCacheBudgetMB({ NANSCOPE_RESIZE_CACHE_MB: bad }), /NANSCOPE_RESIZE_CACHE_MB must be a non-negative number/);
  const small = { images: new Uint8Array(10 * 784), labels: new Uint8Array(10), n: 10 };
  assert.equal(resizeCacheFor(small, 224, 0.4), null, '10 x 224^2 bytes = 0.48 MB: past 0.4');
  assert.notEqual(resizeCacheFor(small, 224, 0.5), null);
});

test('invalid options are rejected', () => {
  assert.throws(() => new DataLoader(split, { batchSize: 0, shuffle: false }), RangeError);
  assert.throws(() => new DataLoader(split, { batchSize: 8, shuffle: true, seed: 1.5 }), RangeError);
  assert.throws(() => new DataLoader(split, { batchSize: 8, shuffle: false, resize: 0 }), RangeError);
  assert.throws(() => new DataLoader(split, { batchSize: 8, shuffle: true }).order(-1), RangeError);
});
