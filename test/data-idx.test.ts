// IDX parser: unit cases and a bounded fuzz run proving random or mutated
// input only ever yields a consistent result or a DataError (no hang, no
// other exception, no read past the buffer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { DataError, parseIdxImages, parseIdxLabels } from '../src/data/index.js';
import { gunzipFile } from '../src/data/gunzip.js';
import { mulberry32 } from '../src/data/prng.js';

function idx(magic: number, dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, magic);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

test('parses valid headers into views of the input', () => {
  const lab = parseIdxLabels(idx(0x801, [3], Uint8Array.of(7, 8, 9)), 'l');
  assert.equal(lab.count, 3);
  assert.deepEqual([...lab.labels], [7, 8, 9]);
  const px = new Uint8Array(2 * 28 * 28).map((_, i) => i & 255);
  const img = parseIdxImages(idx(0x803, [2, 28, 28], px), 'i');
  assert.deepEqual([img.count, img.rows, img.cols], [2, 28, 28]);
  assert.deepEqual(img.pixels, px);
  // Works on a subarray with a non-zero byteOffset.
  const shifted = new Uint8Array(11 + 3);
  shifted.set(idx(0x801, [3], Uint8Array.of(1, 2, 3)), 3);
  assert.deepEqual([...parseIdxLabels(shifted.subarray(3), 's').labels], [1, 2, 3]);
});

test('rejects bad magic, short header, truncation, trailing bytes', () => {
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(0), /only 0 bytes/],
    [idx(0x803, [1], Uint8Array.of(1)), /expected IDX magic 0x00000801, found magic 0x00000803/],
    [Uint8Array.of(0, 0, 8, 1, 0, 0), /8-byte IDX header/],
    [idx(0x801, [5], Uint8Array.of(1, 2)), /size 13 bytes .* found 10 bytes \(file truncated\)/],
    [idx(0x801, [1], Uint8Array.of(1, 2)), /trailing bytes/],
    [idx(0x801, [0xffffffff], Uint8Array.of(1)), /file truncated/],
  ];
  for (const [bytes, re] of cases) {
    assert.throws(() => parseIdxLabels(bytes, 'x.idx'), (e: unknown) => e instanceof DataError && re.test(e.message) && e.file === 'x.idx');
  }
  assert.throws(() => parseIdxImages(idx(0x803, [0xffffffff, 0xffffffff, 0xffffffff], new Uint8Array(4)), 'y'), DataError);
});

function checkResult(r: { count: number; labels?: Uint8Array; pixels?: Uint8Array; rows?: number; cols?: number }, len: number): void {
  const n = r.labels ? r.labels.length : r.pixels!.length;
  const want = r.labels ? r.count : r.count * r.rows! * r.cols!;
  assert.equal(n, want);
  assert.ok(n <= len);
}

test('fuzz: 2000 random and mutated buffers only produce results or DataError', () => {
  const rand = mulberry32(12345);
  const int = (n: number): number => rand() % n;
  const seeds = [
    idx(0x801, [20], new Uint8Array(20).map(() => int(10))),
    idx(0x803, [2, 28, 28], new Uint8Array(2 * 784).map(() => int(256))),
    idx(0x803, [1, 3, 5], new Uint8Array(15)),
  ];
  const t0 = Date.now();
  let ok = 0;
  let rejected = 0;
  for (let it = 0; it < 2000; it++) {
    let buf: Uint8Array;
    const mode = it % 4;
    if (mode === 0) {
      buf = new Uint8Array(int(64)).map(() => int(256)); // pure noise
    } else {
      const base = seeds[int(seeds.length)];
      buf = base.slice();
      if (mode === 1) for (let f = 1 + int(4); f > 0; f--) buf[int(Math.min(buf.length, 16))] = int(256); // header bytes
      if (mode === 2) buf = buf.subarray(0, int(buf.length + 1)); // truncate
      if (mode === 3) {
        for (let f = 1 + int(8); f > 0; f--) buf[int(buf.length)] ^= 1 << int(8);
        if (int(2)) buf = Uint8Array.from([...buf, ...new Uint8Array(int(5))]); // trailing junk
      }
    }
    for (const parse of [parseIdxLabels, parseIdxImages]) {
      try {
        checkResult(parse(buf, 'fuzz'), buf.length);
        ok++;
      } catch (e) {
        if (!(e instanceof DataError)) throw e;
        assert.equal(e.file, 'fuzz');
        rejected++;
      }
    }
  }
  assert.ok(ok > 100 && rejected > 100, `both outcomes exercised: ok=${ok} rejected=${rejected}`);
  assert.ok(Date.now() - t0 < 5000, 'fuzz must stay fast');
});

test('fuzz: mutated gzip streams only produce bytes or DataError', () => {
  const rand = mulberry32(777);
  const gz = gzipSync(idx(0x801, [500], new Uint8Array(500).map((_, i) => i % 10)));
  for (let it = 0; it < 300; it++) {
    const b = Uint8Array.from(gz);
    for (let f = 1 + (rand() % 4); f > 0; f--) b[rand() % b.length] ^= 1 + (rand() % 255);
    const cut = it % 3 === 0 ? b.subarray(0, rand() % b.length) : b;
    try {
      gunzipFile(cut, 'f.gz', 'fix');
    } catch (e) {
      assert.ok(e instanceof DataError && e.file === 'f.gz' && /gzip/.test(e.message), String(e));
    }
  }
});
