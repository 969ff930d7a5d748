// Tensor files: the streamed writer (checkpoints) must produce exactly the bytes of the
// in-memory encoder, the fd reader must give back every value bit for bit (NaN, Inf, -0 in a
// diverging run's checkpoint), and a damaged file must fail with its path and no leaked tensor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../src/torch/index.js';
import { writeFileAtomicSync } from '../src/store/index.js';

const dir = mkdtempSync(join(tmpdir(), 'nanscope-st-'));

function sample(): Map<string, torch.Tensor> {
  const special = torch.tensor(Float32Array.from([NaN, Infinity, -Infinity, -0, 1e-45, 3.4e38, 1.5]), [7]);
  return new Map<string, torch.Tensor>([
    ['special', special],
    ['weight', torch.randn([64, 33])],
    ['transposed', torch.randn([5, 3]).transpose(0, 1)], // not contiguous: written in logical order
    ['labels', torch.tensor(Int32Array.from([0, 9, 3]), [3], { dtype: 'int64' })],
    ['pixels', torch.tensor(Uint8Array.from([0, 255, 17, 128]), [2, 2], { dtype: 'uint8' })],
    ['empty', torch.zeros([0, 4])],
  ]);
}

const bits = (t: torch.Tensor) => Buffer.from(t.data().buffer).toString('hex');

test('streamed writeTensors writes the same bytes as encodeTensors; readTensors reads them back bit for bit', () => {
  const m = sample();
  const meta = { nanscope: '{"step":3}' };
  const path = join(dir, 'a.st');
  writeFileAtomicSync(path, (fd) => torch.writeTensors(fd, m, meta));
  assert.deepEqual(readFileSync(path), Buffer.from(torch.encodeTensors(m, meta)));
  const before = torch.liveTensors();
  const back = torch.readTensors(path);
  assert.deepEqual(back.metadata, meta);
  assert.deepEqual([...back.tensors.keys()], [...m.keys()]);
  torch.tidy(() => {
    for (const [k, t] of m) {
      const r = back.tensors.get(k)!;
      assert.deepEqual(r.shape, t.shape, k);
      assert.equal(r.dtype, t.dtype, k);
      assert.equal(bits(r), bits(t.contiguous()), k);
    }
  });
  assert.ok(Object.is(back.tensors.get('special')!.toArray()[3], -0));
  const live = torch.liveTensors();
  assert.deepEqual(torch.readTensorsMetadata(path), meta, 'metadata from the header alone');
  assert.equal(torch.liveTensors(), live, 'reading metadata creates no tensor');
  for (const t of back.tensors.values()) t.dispose();
  assert.equal(torch.liveTensors(), before);
  for (const t of m.values()) t.dispose();
});

test('damaged tensor files fail with the path and the reason, leaking nothing', () => {
  const m = sample();
  const good = Buffer.from(torch.encodeTensors(m));
  for (const t of m.values()) t.dispose();
  const cases: [string, (p: string) => void, RegExp][] = [
    ['truncated data', (p) => truncateSync(p, good.length - 5), /data does not match shape/],
    ['header only', (p) => truncateSync(p, 8 + Number(good.readBigUInt64LE(0))), /data does not match shape/],
    ['too short', (p) => writeFileSync(p, good.subarray(0, 5)), /too short/],
    ['header length beyond file', (p) => { const b = Buffer.from(good); b.writeBigUInt64LE(1n << 40n, 0); writeFileSync(p, b); }, /exceeds file size/],
    ['header not JSON', (p) => { const b = Buffer.from(good); b[9] = 0x7b; b[8] = 0x7b; writeFileSync(p, b); }, /not valid JSON/],
  ];
  for (const [name, damage, re] of cases) {
    const p = join(dir, `${name.replace(/ /g, '-')}.st`);
    writeFileSync(p, good);
    damage(p);
    const before = torch.liveTensors();
    assert.throws(() => torch.readTensors(p), (e: Error) => re.test(e.message) && e.message.includes(p), `${name}: ${statSync(p).size} bytes`);
    assert.throws(() => torch.decodeTensors(new Uint8Array(readFileSync(p)), p), re, name);
    assert.throws(() => torch.readTensorsMetadata(p), re, `${name}: the header check also guards metadata-only reads`);
    assert.equal(torch.liveTensors(), before, `${name}: tensors leaked`);
  }
});

test('a failing streamed write leaves the previous file in place', () => {
  const path = join(dir, 'keep.st');
  const m = new Map([['w', torch.ones([4])]]);
  writeFileAtomicSync(path, (fd) => torch.writeTensors(fd, m));
  const old = readFileSync(path);
  const gone = torch.ones([4]);
  gone.dispose();
  assert.throws(() => writeFileAtomicSync(path, (fd) => torch.writeTensors(fd, new Map([['w', m.get('w')!], ['x', gone]]))));
  assert.deepEqual(readFileSync(path), old);
  m.get('w')!.dispose();
});
