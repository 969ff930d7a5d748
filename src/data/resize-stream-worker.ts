// The resize stream's worker thread: resizes each batch it is sent into its slot, if the slot
// still holds that batch's generation when it starts (see resize-stream.ts for the protocol).
import { parentPort } from 'node:worker_threads';
import { resizerFor } from './resize.js';
import { QUEUED, READY, WORKING, word, type StreamJob, type StreamShared } from './resize-stream.js';

let run: ((job: StreamJob) => void) | null = null;

function start(m: StreamShared): (job: StreamJob) => void {
  const rz = resizerFor(m.inSize, m.size);
  const pixels = new Uint8Array(m.pixels);
  const state = new Int32Array(m.state);
  const slots = state.length - 1;
  const rr = m.size * m.size, px = m.inSize * m.inSize;
  return ({ slot, gen, indices }) => {
    // Only if the training thread has neither taken it back nor queued another batch there.
    if (Atomics.compareExchange(state, slot, word(gen, QUEUED), word(gen, WORKING)) !== word(gen, QUEUED)) return;
    const at = slot * m.slotImages * rr;
    for (let b = 0; b < indices.length; b++) rz.resizeInto(m.images, indices[b] * px, pixels, at + b * rr);
    Atomics.add(state, slots, indices.length);
    Atomics.store(state, slot, word(gen, READY));
    Atomics.notify(state, slot);
  };
}

parentPort?.on('message', (m: StreamShared | StreamJob) => {
  if ('pixels' in m) run = start(m);
  else run?.(m);
});
