/**
 * Resized batches without keeping every image: for a split whose resized images would pass the
 * resize cache's budget (d2l's AlexNet at 224: 60,000 x 224^2 bytes = 3.0 GB, held for the whole
 * run), a worker thread resizes the next batches into a small ring of shared slots while the
 * step runs, and the training thread copies each batch out of its slot, or resizes it itself
 * when the thread has not started on it. PyTorch's DataLoader does this work every epoch too
 * (transforms.Resize in its workers); at 224 it is ~0.3 ms an image, ~35 ms a batch of 128,
 * against a step of seconds. The bytes are the same whoever resizes (one PIL-exact code path).
 *
 * Batch i goes to slot i % slots, with slots = prefetch + 1, so the batch being taken and the
 * ones asked ahead never share a slot. Each slot has one state word, generation * 4 + phase.
 * The training thread queues a batch with a fresh generation; the worker starts on it only by
 * compare-and-swap QUEUED -> WORKING of that generation, and the training thread takes it back
 * by QUEUED -> FREE, so exactly one of them resizes it. A slot in WORKING is never queued again
 * until the worker marks it READY (a worker that died there leaves the slot unused; the batches
 * that map to it are resized by the training thread).
 */
import type { Worker } from 'node:worker_threads';
import { resizerFor, type Resizer } from './resize.js';
import { IMAGE_SIZE, PIXELS, type Split } from './split.js';
import { startThread } from './thread.js';

export const FREE = 0;
export const QUEUED = 1;
export const WORKING = 2;
export const READY = 3;
const PHASES = 4;
/** Generations stay below 2^28 so generation * 4 + phase fits an Int32. */
const GENERATIONS = 1 << 28;
/** How long the training thread waits for a batch the worker is on before it resizes it itself. */
const WAIT_MS = 10_000;

/** What the worker thread is given once. `state`: one word per slot, then the worker's image count. */
export interface StreamShared { images: Uint8Array; inSize: number; size: number; slotImages: number; pixels: SharedArrayBuffer; state: SharedArrayBuffer }
/** One batch for the worker: its images, into `slot`, if the slot still holds generation `gen`. */
export interface StreamJob { slot: number; gen: number; indices: Uint32Array }

export const word = (gen: number, phase: number): number => gen * PHASES + phase;

export class ResizeStream {
  readonly size: number;
  private readonly split: Split;
  private readonly slots: number;
  private readonly slotImages: number;
  private readonly resizer: Resizer;
  /** Slot memory and state words, made on the first queue() (a stream that never prefetches needs neither). */
  private shared: { pixels: Uint8Array; state: Int32Array } | null = null;
  /** What the training thread queued in each slot, and under which generation. */
  private readonly queued: ({ epoch: number; index: number; gen: number } | null)[];
  private gen = 0;
  private worker: Worker | null = null;

  constructor(split: Split, size: number, slots: number, slotImages: number) {
    if (!Number.isSafeInteger(slots) || slots < 1) throw new RangeError(`slots must be a positive integer, got ${slots}`);
    this.split = split;
    this.size = size;
    this.slots = slots;
    this.slotImages = slotImages;
    this.resizer = resizerFor(IMAGE_SIZE, size);
    this.queued = Array.from({ length: slots }, () => null);
  }

  /** Images the worker thread has resized so far. */
  get workerResized(): number {
    return this.shared ? Atomics.load(this.shared.state, this.slots) : 0;
  }

  /** Asks the worker thread to resize batch (epoch, index), whose images are `indices`, into its slot. */
  queue(epoch: number, index: number, indices: Uint32Array): void {
    if (indices.length > this.slotImages) throw new RangeError(`a batch of ${indices.length} images does not fit a slot of ${this.slotImages}`);
    const sh = this.ensureShared();
    const s = index % this.slots;
    const st = Atomics.load(sh.state, s);
    if (st % PHASES === WORKING) return; // the worker is writing there: this batch is resized at take()
    const q = this.queued[s];
    if (q && q.epoch === epoch && q.index === index && (st === word(q.gen, QUEUED) || st === word(q.gen, READY))) return;
    this.gen = (this.gen % (GENERATIONS - 1)) + 1;
    Atomics.store(sh.state, s, word(this.gen, QUEUED));
    this.queued[s] = { epoch, index, gen: this.gen };
    const job: StreamJob = { slot: s, gen: this.gen, indices };
    this.ensureWorker(sh).postMessage(job);
  }

  /**
   * Writes batch (epoch, index)'s images, resized, into `out` (indices.length * size^2 bytes):
   * from its slot if the worker resized it (waiting while the worker is on it), else here.
   */
  take(epoch: number, index: number, indices: Uint32Array, out: Uint8Array): void {
    const rr = this.size * this.size;
    const s = index % this.slots;
    const q = this.queued[s];
    const sh = this.shared;
    if (sh && q && q.epoch === epoch && q.index === index) {
      this.queued[s] = null;
      // Take it back if the worker has not started; otherwise wait for it to finish.
      if (Atomics.compareExchange(sh.state, s, word(q.gen, QUEUED), FREE) !== word(q.gen, QUEUED)) {
        if (Atomics.load(sh.state, s) === word(q.gen, WORKING)) Atomics.wait(sh.state, s, word(q.gen, WORKING), WAIT_MS);
        if (Atomics.load(sh.state, s) === word(q.gen, READY)) {
          const at = s * this.slotImages * rr;
          out.set(sh.pixels.subarray(at, at + indices.length * rr));
          Atomics.store(sh.state, s, FREE);
          return;
        }
      }
    }
    const { images } = this.split;
    for (let b = 0; b < indices.length; b++) this.resizer.resizeInto(images, indices[b] * PIXELS, out, b * rr);
  }

  /** Stops the worker thread (the stream stays usable; a later queue() starts a new one, with new slots). */
  close(): void {
    void this.worker?.terminate();
    this.worker = null;
    // A slot the old thread was writing would stay WORKING, and unused, for good: the next
    // thread gets fresh slots, and whatever the old one still writes lands in the old memory.
    this.shared = null;
    this.queued.fill(null);
  }

  private ensureShared(): { pixels: Uint8Array; state: Int32Array } {
    this.shared ??= {
      pixels: new Uint8Array(new SharedArrayBuffer(this.slots * this.slotImages * this.size * this.size)),
      state: new Int32Array(new SharedArrayBuffer((this.slots + 1) * 4)),
    };
    return this.shared;
  }

  private ensureWorker(sh: { pixels: Uint8Array; state: Int32Array }): Worker {
    if (this.worker) return this.worker;
    const w = startThread(import.meta.url, 'resize-stream-worker');
    w.unref(); // it only works ahead: never a reason to keep the process alive
    w.on('error', () => { if (this.worker === w) this.worker = null; }); // the training thread resizes what is missing
    const init: StreamShared = { images: this.split.images, inSize: IMAGE_SIZE, size: this.size, slotImages: this.slotImages,
      pixels: sh.pixels.buffer as SharedArrayBuffer, state: sh.state.buffer as SharedArrayBuffer };
    w.postMessage(init); // the source images are copied once; slots and states are shared
    this.worker = w;
    return w;
  }
}
