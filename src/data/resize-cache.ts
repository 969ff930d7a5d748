/**
 * Per-(split, size) cache of resized images, shared by every DataLoader in
 * the process: each image is resized at most once, lazily on first use (or all
 * at once via warm()), never per training step. Memory is n*R*R bytes,
 * zero-filled and paged in by the OS only as images are written, so it is
 * made only within a budget (resizeCacheFor, NANSCOPE_RESIZE_CACHE_MB, 1 GB by
 * default): 60,000 images at 96 take 0.55 GB; at 224, 3.0 GB, so d2l's AlexNet's
 * training split is streamed instead (resize-stream.ts).
 *
 * The cache lives in shared memory so a worker thread (resize-worker.ts) can
 * resize the next batches' images ahead of the step (prefetch()). Either thread
 * may resize an image: both run the same PIL-exact code, so the bytes are the
 * same whoever writes them. An image's bit in `done` is set (atomically) only
 * after its pixels are written, and the training thread reads an image only
 * after seeing its bit, or after resizing it itself; it never waits for the worker.
 */
import type { Worker } from 'node:worker_threads';
import { resizerFor, type Resizer } from './resize.js';
import { IMAGE_SIZE, PIXELS, type Split } from './split.js';
import { startThread } from './thread.js';

/** What the worker thread is given once: the source images and the shared cache. */
export interface ResizeShared { images: Uint8Array; inSize: number; size: number; pixels: SharedArrayBuffer; done: SharedArrayBuffer }

/** Sets image i's bit; true if this call set it (exactly one thread counts each image). */
export function markDone(done: Int32Array, i: number): boolean {
  const bit = 1 << (i & 31);
  return (Atomics.or(done, i >>> 5, bit) & bit) === 0;
}
export const isDone = (done: Int32Array, i: number): boolean => (Atomics.load(done, i >>> 5) & (1 << (i & 31))) !== 0;

export class ResizeCache {
  readonly size: number;
  readonly pixels: Uint8Array;
  /** One bit per image, set once its pixels are in place; last word: how many are done. */
  private readonly done: Int32Array;
  private readonly count: Int32Array;
  private readonly split: Split;
  private readonly resizer: Resizer;
  private worker: Worker | null = null;

  constructor(split: Split, size: number) {
    this.split = split;
    this.size = size;
    this.pixels = new Uint8Array(new SharedArrayBuffer(split.n * size * size));
    const words = (split.n + 31) >>> 5;
    const sab = new SharedArrayBuffer((words + 1) * 4);
    this.done = new Int32Array(sab, 0, words);
    this.count = new Int32Array(sab, words * 4, 1);
    this.resizer = resizerFor(IMAGE_SIZE, size);
  }

  /** Image i at the cached size (a view; do not modify). */
  image(i: number): Uint8Array {
    const rr = this.size * this.size;
    if (!isDone(this.done, i)) {
      this.resizer.resizeInto(this.split.images, i * PIXELS, this.pixels, i * rr);
      if (markDone(this.done, i)) Atomics.add(this.count, 0, 1);
    }
    return this.pixels.subarray(i * rr, (i + 1) * rr);
  }

  /** Resize everything not yet cached. */
  warm(): void {
    if (this.resized === this.split.n) return;
    for (let i = 0; i < this.split.n; i++) this.image(i);
  }

  /** How many images have been resized so far (by either thread). */
  get resized(): number {
    return Atomics.load(this.count, 0);
  }

  /**
   * Asks the worker thread to resize these images (those not cached yet), in this order, while
   * the caller goes on. Nothing waits for it: image() resizes whatever is not there yet itself.
   */
  prefetch(indices: Uint32Array): void {
    if (this.resized === this.split.n) return;
    if (!this.worker) {
      const shared: ResizeShared = { images: this.split.images, inSize: IMAGE_SIZE, size: this.size, pixels: this.pixels.buffer as SharedArrayBuffer, done: this.done.buffer as SharedArrayBuffer };
      this.worker = startThread(import.meta.url, 'resize-worker');
      this.worker.unref(); // it only warms a cache: never a reason to keep the process alive
      this.worker.on('error', () => { this.worker = null; }); // the training thread resizes what is missing
      this.worker.postMessage(shared); // the source images are copied once; the cache is shared
    }
    this.worker.postMessage(indices);
  }

  /** Stops the prefetch thread (the cache stays usable; a later prefetch starts a new one). */
  close(): void {
    void this.worker?.terminate();
    this.worker = null;
  }
}

const caches = new WeakMap<Split, Map<number, ResizeCache>>();

/** Default budget of one split's cache (NANSCOPE_RESIZE_CACHE_MB overrides it): d2l's sizes up to 128 fit, 224 streams. */
export const RESIZE_CACHE_MB = 1024;

/** The budget in MB: NANSCOPE_RESIZE_CACHE_MB when set (a non-negative number), else RESIZE_CACHE_MB. */
export function resizeCacheBudgetMB(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.NANSCOPE_RESIZE_CACHE_MB;
  if (v === undefined || v === '') return RESIZE_CACHE_MB;
  const mb = Number(v);
  if (!Number.isFinite(mb) || mb < 0) throw new RangeError(`NANSCOPE_RESIZE_CACHE_MB must be a non-negative number of MB, got '${v}'`);
  return mb;
}

/**
 * The process's cache of `split` at `size`, or null where its n * size^2 bytes would pass
 * budgetMB (default: resizeCacheBudgetMB()): such a split is streamed (resize-stream.ts).
 * A cache made earlier under a larger budget is returned whatever the budget now.
 */
export function resizeCacheFor(split: Split, size: number, budgetMB = resizeCacheBudgetMB()): ResizeCache | null {
  let bySize = caches.get(split);
  if (!bySize) {
    bySize = new Map();
    caches.set(split, bySize);
  }
  let c = bySize.get(size);
  if (!c) {
    if (split.n * size * size > budgetMB * 2 ** 20) return null;
    c = new ResizeCache(split, size);
    bySize.set(size, c);
  }
  return c;
}
