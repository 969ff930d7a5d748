/**
 * Load the official Fashion-MNIST: locate (or download), gunzip, and verify
 * every file -- IDX magic, header dims vs length, 60000/10000 images of 28x28,
 * label range 0..9, matching image/label counts, and the sha256 of the
 * decompressed bytes -- then cache the result for the life of the process.
 */
import { checksumMismatch, type FileName } from './checksums.js';
import { DataError } from './errors.js';
import { readIdxBytes } from './gunzip.js';
import { parseIdxImages, parseIdxLabels } from './idx.js';
import { stratifiedLimit } from './limit.js';
import { locateFashionMnist, type Located, type LocateOptions } from './locate.js';
import { IMAGE_SIZE, NUM_CLASSES, type Split } from './split.js';

export interface LoadOptions extends LocateOptions {
  /** Stratified subset of the training split (see limit.ts). */
  limitTrain?: number;
  /** Stratified subset of the test split. */
  limitTest?: number;
}

export interface FashionMnist {
  train: Split;
  test: Split;
  /** Directory the files came from. */
  source: string;
}

const TRAIN_N = 60000;
const TEST_N = 10000;

function verifyChecksum(loc: Located, name: FileName, bytes: Uint8Array): void {
  const bad = checksumMismatch(name, bytes);
  if (bad) throw new DataError(loc.files[name], bad.expected, bad.found, loc.fix);
}

/**
 * Structure (magic, dims, counts, label range) is checked before the checksum
 * so a wrong file gets a specific message; the checksum then catches any
 * remaining corruption. Labels first: they are small, so bad ones fail fast.
 */
function loadSplit(loc: Located, prefix: 'train' | 't10k', n: number): Split {
  const labelsName: FileName = `${prefix}-labels-idx1-ubyte`;
  const imagesName: FileName = `${prefix}-images-idx3-ubyte`;
  const labelsFile = loc.files[labelsName];
  const imagesFile = loc.files[imagesName];

  const labelBytes = readIdxBytes(labelsFile, loc.fix);
  const lab = parseIdxLabels(labelBytes, labelsFile, loc.fix);
  if (lab.count !== n) throw new DataError(labelsFile, `${n} labels`, `${lab.count} labels`, loc.fix);
  for (let i = 0; i < lab.count; i++) {
    if (lab.labels[i] >= NUM_CLASSES) {
      throw new DataError(labelsFile, `labels in 0..${NUM_CLASSES - 1}`, `label ${lab.labels[i]} at index ${i}`, loc.fix);
    }
  }
  verifyChecksum(loc, labelsName, labelBytes);

  const imageBytes = readIdxBytes(imagesFile, loc.fix);
  const img = parseIdxImages(imageBytes, imagesFile, loc.fix);
  if (img.rows !== IMAGE_SIZE || img.cols !== IMAGE_SIZE) {
    throw new DataError(imagesFile, `${IMAGE_SIZE}x${IMAGE_SIZE} images`, `${img.rows}x${img.cols}`, loc.fix);
  }
  if (img.count !== n) throw new DataError(imagesFile, `${n} images`, `${img.count} images`, loc.fix);
  verifyChecksum(loc, imagesName, imageBytes);

  return { images: img.pixels, labels: lab.labels, n };
}

/** Parsed + verified full splits, per source directory, for this process. */
const fullCache = new Map<string, { train: Split; test: Split }>();
/** Limited views, so repeated calls return the same Split objects (and share resize caches). */
const limitedCache = new Map<string, FashionMnist>();

export async function loadFashionMnist(opts: LoadOptions = {}): Promise<FashionMnist> {
  const loc = await locateFashionMnist(opts);
  const key = Object.values(loc.files).join('\0');
  let full = fullCache.get(key);
  if (!full) {
    const t0 = Date.now();
    const test = loadSplit(loc, 't10k', TEST_N);
    const train = loadSplit(loc, 'train', TRAIN_N);
    full = { train, test };
    fullCache.set(key, full);
    opts.log?.(`fashion-mnist: verified ${TRAIN_N}+${TEST_N} images from ${loc.dir} (${loc.kind}) in ${Date.now() - t0} ms`);
  }
  const limKey = `${key}\0${opts.limitTrain ?? ''}\0${opts.limitTest ?? ''}`;
  let out = limitedCache.get(limKey);
  if (!out) {
    out = {
      train: opts.limitTrain === undefined ? full.train : stratifiedLimit(full.train, opts.limitTrain, 'limitTrain'),
      test: opts.limitTest === undefined ? full.test : stratifiedLimit(full.test, opts.limitTest, 'limitTest'),
      source: loc.dir,
    };
    limitedCache.set(limKey, out);
  }
  return out;
}
