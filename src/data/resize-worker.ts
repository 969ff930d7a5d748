// The resize cache's prefetch thread: resizes the images it is sent into the shared cache,
// skipping those already there (see resize-cache.ts for who may write what, and when).
import { parentPort } from 'node:worker_threads';
import { resizerFor } from './resize.js';
import { isDone, markDone, type ResizeShared } from './resize-cache.js';

let state: { images: Uint8Array; pixels: Uint8Array; done: Int32Array; count: Int32Array; rr: number; px: number; resize: (i: number) => void } | null = null;

parentPort?.on('message', (m: ResizeShared | Uint32Array) => {
  if (!(m instanceof Uint32Array)) {
    const words = m.done.byteLength / 4 - 1;
    const rz = resizerFor(m.inSize, m.size);
    const pixels = new Uint8Array(m.pixels);
    const s = { images: m.images, pixels, done: new Int32Array(m.done, 0, words), count: new Int32Array(m.done, words * 4, 1),
      rr: m.size * m.size, px: m.inSize * m.inSize, resize: (i: number) => rz.resizeInto(m.images, i * s.px, pixels, i * s.rr) };
    state = s;
    return;
  }
  const s = state!;
  for (const i of m) {
    if (isDone(s.done, i)) continue;
    s.resize(i);
    if (markDone(s.done, i)) Atomics.add(s.count, 0, 1);
  }
});
