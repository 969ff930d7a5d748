/**
 * Per-(split, size) cache of resized images, shared by every DataLoader in
 * the process: each image is resized at most once, lazily on first use (or all
 * at once via warm()), never per training step. Memory is n*R*R bytes
 * (60000 x 224^2 ~ 3.0 GB for d2l's AlexNet); the allocation is zero-filled
 * and paged in by the OS only as images are written.
 */
import { resizerFor, type Resizer } from './resize.js';
import { IMAGE_SIZE, PIXELS, type Split } from './split.js';

export class ResizeCache {
  readonly size: number;
  readonly pixels: Uint8Array;
  private readonly done: Uint8Array;
  private readonly split: Split;
  private readonly resizer: Resizer;
  private remaining: number;

  constructor(split: Split, size: number) {
    this.split = split;
    this.size = size;
    this.pixels = new Uint8Array(split.n * size * size);
    this.done = new Uint8Array((split.n + 7) >>> 3);
    this.resizer = resizerFor(IMAGE_SIZE, size);
    this.remaining = split.n;
  }

  /** Image i at the cached size (a view; do not modify). */
  image(i: number): Uint8Array {
    const rr = this.size * this.size;
    if ((this.done[i >>> 3] & (1 << (i & 7))) === 0) {
      this.resizer.resizeInto(this.split.images, i * PIXELS, this.pixels, i * rr);
      this.done[i >>> 3] |= 1 << (i & 7);
      this.remaining--;
    }
    return this.pixels.subarray(i * rr, (i + 1) * rr);
  }

  /** Resize everything not yet cached. */
  warm(): void {
    if (this.remaining === 0) return;
    for (let i = 0; i < this.split.n; i++) this.image(i);
  }

  /** How many images have been resized so far. */
  get resized(): number {
    return this.split.n - this.remaining;
  }
}

const caches = new WeakMap<Split, Map<number, ResizeCache>>();

export function resizeCacheFor(split: Split, size: number): ResizeCache {
  let bySize = caches.get(split);
  if (!bySize) {
    bySize = new Map();
    caches.set(split, bySize);
  }
  let c = bySize.get(size);
  if (!c) {
    c = new ResizeCache(split, size);
    bySize.set(size, c);
  }
  return c;
}
