// resize.ts must be byte-identical to torchvision's Resize(R) on a PIL 'L'
// image (= Pillow Image.resize(BILINEAR)). The oracle is Debian's
// /usr/bin/python3 with python3-torchvision / python3-pil (not the pyenv
// python on PATH). Hashes of the oracle output are also pinned, so the check
// still runs where that Python is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Resizer, SYSTEM_DIR, loadFashionMnist, resizeImage } from '../src/data/index.js';

const PY = '/usr/bin/python3';
const ORACLE = `
import sys, numpy as np
from PIL import Image
try:
    from torchvision import transforms
    resize = lambda im, r: transforms.Resize(r)(im)
    which = 'torchvision'
except Exception:
    resize = lambda im, r: im.resize((r, r), Image.BILINEAR)
    which = 'PIL'
n = int(sys.argv[1]); sizes = [int(s) for s in sys.argv[2].split(',')]
a = np.frombuffer(sys.stdin.buffer.read(), np.uint8).reshape(n, 28, 28)
for r in sizes:
    for i in range(n):
        out = np.asarray(resize(Image.fromarray(a[i], mode='L'), r), dtype=np.uint8)
        assert out.shape == (r, r)
        sys.stdout.buffer.write(out.tobytes())
sys.stderr.write(which)
`;

const SIZES = [224, 96, 20, 28, 57];
// sha256 of torchvision Resize(R) over train images 0..7, concatenated.
const PINNED: Record<number, string> = {
  224: '4ba3f07d019ed5889f7f4318c9d99df3b4e1fe8cd7c180686e631dd62c5046cb',
  96: 'a9a775f4f90979ad97c415e5e0a6dc4abbf2f57d30cb7e238d4221b5ae65d752',
  20: '194c0445608045e6bb0b0837fe017df6abad5e732bb8297b32f02220c05657c2',
};

const oracleAvailable =
  existsSync(PY) && spawnSync(PY, ['-c', 'import numpy, PIL'], { stdio: 'ignore' }).status === 0;

/** Pick images with varied content: the first 8 train images plus some from the test split. */
async function sampleImages(): Promise<{ images: Uint8Array; n: number }> {
  const d = await loadFashionMnist({ dataDir: SYSTEM_DIR });
  const picks = [...Array(8).keys()].map((i) => ({ s: d.train, i }));
  for (const i of [0, 1, 2, 3, 777, 4242, 9999]) picks.push({ s: d.test, i });
  const images = new Uint8Array(picks.length * 784);
  picks.forEach(({ s, i }, k) => images.set(s.images.subarray(i * 784, (i + 1) * 784), k * 784));
  return { images, n: picks.length };
}

test('matches pinned torchvision output hashes', async () => {
  const { images } = await sampleImages();
  for (const [r, want] of Object.entries(PINNED)) {
    const R = Number(r);
    const h = createHash('sha256');
    for (let i = 0; i < 8; i++) h.update(resizeImage(images.subarray(i * 784, (i + 1) * 784), 28, R));
    assert.equal(h.digest('hex'), want, `R=${R}`);
  }
});

test('byte-identical to torchvision/PIL oracle at 224, 96, 20, 28, 57', { skip: !oracleAvailable && `${PY} with numpy+PIL not available` }, async () => {
  const { images, n } = await sampleImages();
  const r = spawnSync(PY, ['-c', ORACLE, String(n), SIZES.join(',')], { input: images, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr.toString());
  const ref = r.stdout;
  let off = 0;
  for (const R of SIZES) {
    const rs = new Resizer(28, R);
    const out = new Uint8Array(n * R * R);
    for (let i = 0; i < n; i++) rs.resizeInto(images, i * 784, out, i * R * R);
    const want = ref.subarray(off, off + n * R * R);
    off += n * R * R;
    let first = -1;
    for (let j = 0; j < out.length && first < 0; j++) if (out[j] !== want[j]) first = j;
    assert.equal(first, -1, `R=${R} (${r.stderr.toString()}): first diff at byte ${first}`);
  }
  assert.equal(off, ref.length);
});

test('R=28 is the identity; resizeInto honours offsets and allocates nothing new', () => {
  const src = new Uint8Array(3 * 784).map((_, i) => (i * 31) & 255);
  assert.deepEqual(resizeImage(src.subarray(784, 1568), 28, 28), src.subarray(784, 1568));
  const rs = new Resizer(28, 96);
  const dst = new Uint8Array(2 * 96 * 96 + 5);
  rs.resizeInto(src, 784, dst, 5 + 96 * 96);
  assert.deepEqual(dst.subarray(5 + 96 * 96), resizeImage(src.subarray(784, 1568), 28, 96));
  assert.ok(dst.subarray(0, 5 + 96 * 96).every((v) => v === 0));
  assert.throws(() => rs.resizeInto(src, 2 * 784 + 1, dst, 0), RangeError);
  assert.throws(() => rs.resizeInto(src, 0, dst, 96 * 96 + 6), RangeError);
});

test('constant images stay constant (weights normalized)', () => {
  for (const R of [224, 96, 20, 7]) {
    for (const v of [0, 1, 128, 255]) {
      const out = resizeImage(new Uint8Array(784).fill(v), 28, R);
      assert.ok(out.every((x) => x === v), `R=${R} v=${v}`);
    }
  }
});
