/**
 * Batches over a Split, PyTorch-DataLoader style (last partial batch kept
 * unless dropLast). The data seen at (epoch, batchIndex) is a pure function
 * of (split, options, epoch, batchIndex), so a run resumed from a checkpoint
 * at that position sees exactly the batches the original run would have.
 *
 * Pixels stay uint8 (0..255), NCHW with C=1; scaling to [0,1] (d2l's
 * ToTensor) happens on the native side.
 */
import { permutation } from './prng.js';
import { resizeCacheFor, type ResizeCache } from './resize-cache.js';
import { ResizeStream } from './resize-stream.js';
import { IMAGE_SIZE, PIXELS, type Split } from './split.js';

export interface DataLoaderOptions {
  batchSize: number;
  shuffle: boolean;
  /** Shuffle seed (safe integer). Default 0. Ignored when shuffle is false. */
  seed?: number;
  /** Output side length R (images become RxR). 28 (default) = no resize. */
  resize?: number;
  /** Drop the last batch if it is smaller than batchSize. Default false. */
  dropLast?: boolean;
  /**
   * Batches to resize ahead in a worker thread (0, the default: none). Each batch(epoch, i)
   * asks the thread for the images of the batches up to i + prefetch; the batches themselves
   * are the same bytes either way (see ResizeCache). No effect at 28x28.
   */
  prefetch?: number;
  /**
   * Keep the split's resized images (n * R^2 bytes) for the process only if they take at most
   * this many MB; otherwise resize every batch as it comes, ahead in the prefetch thread
   * (ResizeStream). Default: NANSCOPE_RESIZE_CACHE_MB, else 1024 (d2l's AlexNet at 224 streams
   * its 3.0 GB training split, keeps its 0.5 GB test split). The batches are the same bytes.
   */
  resizeCacheMB?: number;
}

export interface Batch {
  epoch: number;
  /** Batch index within the epoch. */
  index: number;
  /** Number of images in this batch (== batchSize except maybe the last). */
  size: number;
  /** size*R*R bytes, contiguous, image after image (NCHW, C=1). */
  pixels: Uint8Array;
  labels: Int32Array;
  /** Dataset indices of the images, in batch order (for tracing bad samples). */
  indices: Uint32Array;
}

/** Batches in an epoch of n examples (the last one partial unless dropLast). */
export function batchCount(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * Where a trainer's batches come from. The batch at (epoch, index) must be a pure function of
 * the two, so resume and replay regenerate exactly the batches a run saw. Images are uint8,
 * NCHW with C=1, side x side (the run's --resize); labels are class indices.
 */
export interface BatchSource {
  readonly numBatches: number;
  batch(epoch: number, index: number): Batch;
}

export class DataLoader implements BatchSource {
  readonly split: Split;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  /** Output side length. */
  readonly size: number;
  readonly dropLast: boolean;
  readonly numBatches: number;
  /** Where resized images come from: the process's whole-split cache, or batch by batch (null, null at 28x28). */
  private readonly cache: ResizeCache | null;
  private readonly stream: ResizeStream | null;
  private lastOrder: { epoch: number; order: Uint32Array } | null = null;
  readonly prefetch: number;
  /** The last batch asked for, and how far ahead the thread has been asked to resize. */
  private ahead: { epoch: number; index: number; upTo: number } | null = null;

  constructor(split: Split, opts: DataLoaderOptions) {
    const { batchSize, shuffle, seed = 0, resize = IMAGE_SIZE, dropLast = false, prefetch = 0, resizeCacheMB } = opts;
    if (!Number.isSafeInteger(prefetch) || prefetch < 0) throw new RangeError(`prefetch must be a non-negative integer, got ${prefetch}`);
    this.prefetch = prefetch;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(resize) || resize < 1) throw new RangeError(`resize must be a positive integer, got ${resize}`);
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    this.split = split;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = seed;
    this.size = resize;
    this.dropLast = dropLast;
    this.numBatches = batchCount(split.n, batchSize, dropLast);
    if (resizeCacheMB !== undefined && !(resizeCacheMB >= 0)) throw new RangeError(`resizeCacheMB must be a non-negative number, got ${resizeCacheMB}`);
    this.cache = resize === IMAGE_SIZE ? null : resizeCacheFor(split, resize, resizeCacheMB);
    this.stream = resize === IMAGE_SIZE || this.cache ? null : new ResizeStream(split, resize, prefetch + 1, batchSize);
  }

  /** Sample order of an epoch: identity without shuffle, else permutation(seed, epoch). Shared; do not modify. */
  order(epoch: number): Uint32Array {
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`epoch must be a non-negative integer, got ${epoch}`);
    if (this.lastOrder?.epoch === epoch) return this.lastOrder.order;
    let order: Uint32Array;
    if (this.shuffle) {
      order = permutation(this.split.n, this.seed, epoch);
    } else {
      order = new Uint32Array(this.split.n);
      for (let i = 0; i < order.length; i++) order[i] = i;
    }
    this.lastOrder = { epoch, order };
    return order;
  }

  /** Whether resized images are kept for the process (false: resized batch by batch, or 28x28). */
  get cachesResized(): boolean {
    return this.cache !== null;
  }

  /** Resize every image now (e.g. before timing epochs). No-op at 28x28 and when streaming (nothing is kept). */
  warm(): void {
    this.cache?.warm();
  }

  /** The batch at (epoch, index). */
  batch(epoch: number, index: number): Batch {
    if (!Number.isInteger(index) || index < 0 || index >= this.numBatches) {
      throw new RangeError(`batch index ${index} out of range 0..${this.numBatches - 1}`);
    }
    const order = this.order(epoch);
    if (this.prefetch > 0 && (this.cache || this.stream)) this.askAhead(epoch, index, order);
    const start = index * this.batchSize;
    const indices = order.slice(start, Math.min(start + this.batchSize, this.split.n));
    const size = indices.length;
    const rr = this.size * this.size;
    const pixels = new Uint8Array(size * rr);
    const labels = new Int32Array(size);
    const { images, labels: src } = this.split;
    if (this.stream) this.stream.take(epoch, index, indices, pixels);
    else for (let b = 0; b < size; b++) {
      const i = indices[b];
      pixels.set(this.cache ? this.cache.image(i) : images.subarray(i * PIXELS, (i + 1) * PIXELS), b * rr);
    }
    for (let b = 0; b < size; b++) labels[b] = src[indices[b]];
    return { epoch, index, size, pixels, labels, indices };
  }

  /** Sends the prefetch thread the images of the batches after `index` up to index + prefetch, each once. */
  private askAhead(epoch: number, index: number, order: Uint32Array): void {
    const a = this.ahead;
    const from = a && a.epoch === epoch && a.index < index && a.upTo >= index ? a.upTo + 1 : index + 1;
    const upTo = Math.min(index + this.prefetch, this.numBatches - 1);
    for (let i = from; i <= upTo; i++) {
      const indices = order.subarray(i * this.batchSize, Math.min((i + 1) * this.batchSize, this.split.n)).slice();
      if (this.stream) this.stream.queue(epoch, i, indices);
      else this.cache!.prefetch(indices);
    }
    this.ahead = { epoch, index, upTo: Math.max(upTo, from - 1) };
  }

  /** Stops the prefetch thread of this loader's cache (shared with other loaders of the same split and size) or stream. */
  close(): void {
    this.cache?.close();
    this.stream?.close();
  }

  /** Batches of an epoch from startBatch on (resume support). */
  *batches(epoch: number, startBatch = 0): Generator<Batch, void, undefined> {
    if (!Number.isInteger(startBatch) || startBatch < 0 || startBatch > this.numBatches) {
      throw new RangeError(`startBatch ${startBatch} out of range 0..${this.numBatches}`);
    }
    for (let i = startBatch; i < this.numBatches; i++) yield this.batch(epoch, i);
  }
}
