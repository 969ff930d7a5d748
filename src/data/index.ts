/** Public API of the data layer: official Fashion-MNIST, verified, resized like d2l, batched. */
export { DataError } from './errors.js';
export { FILES, FILE_NAMES, type FileName, type FileSpec } from './checksums.js';
export { parseIdxImages, parseIdxLabels, IMAGES_MAGIC, LABELS_MAGIC, type IdxImages, type IdxLabels } from './idx.js';
export {
  locateFashionMnist,
  defaultCacheDir,
  SYSTEM_DIR,
  type LocateOptions,
  type Located,
  type SourceKind,
} from './locate.js';
export { downloadFile, OFFICIAL_BASE_URL, type DownloadOptions, type FetchLike, type FetchResponseLike } from './download.js';
export { loadFashionMnist, type LoadOptions, type FashionMnist } from './fashion-mnist.js';
export { stratifiedLimit } from './limit.js';
export { Resizer, resizerFor, resizeImage } from './resize.js';
export { ResizeCache, resizeCacheFor, resizeCacheBudgetMB, RESIZE_CACHE_MB } from './resize-cache.js';
export { ResizeStream } from './resize-stream.js';
export { DataLoader, batchCount, type DataLoaderOptions, type Batch, type BatchSource } from './loader.js';
export { permutation, epochState, mulberry32 } from './prng.js';
export { CLASS_NAMES, IMAGE_SIZE, NUM_CLASSES, PIXELS, type Split } from './split.js';
