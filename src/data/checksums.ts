/**
 * Expected contents of the four official Fashion-MNIST files.
 *
 * We pin the sha256 of the DECOMPRESSED IDX bytes, not of the .gz: Debian's
 * dataset-fashion-mnist package recompressed the files (new gzip headers), so
 * the official .gz MD5s below do not match its copies even though the data is
 * byte-identical. The MD5s are kept for reference only.
 */
import { createHash } from 'node:crypto';

export type FileName =
  | 'train-images-idx3-ubyte'
  | 'train-labels-idx1-ubyte'
  | 't10k-images-idx3-ubyte'
  | 't10k-labels-idx1-ubyte';

export interface FileSpec {
  /** sha256 (hex) of the decompressed IDX bytes. */
  sha256: string;
  /** Length in bytes of the decompressed IDX file. */
  bytes: number;
  /** MD5 of the official upstream .gz (informational; Debian's .gz differ). */
  officialGzMd5: string;
}

export const FILES: Readonly<Record<FileName, FileSpec>> = {
  'train-images-idx3-ubyte': {
    sha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
    bytes: 47040016,
    officialGzMd5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
  },
  'train-labels-idx1-ubyte': {
    sha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
    bytes: 60008,
    officialGzMd5: '25c81989df183df01b3e8a0aad5dffbe',
  },
  't10k-images-idx3-ubyte': {
    sha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
    bytes: 7840016,
    officialGzMd5: 'bef4ecab320f06d8554ea6380940ec79',
  },
  't10k-labels-idx1-ubyte': {
    sha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
    bytes: 10008,
    officialGzMd5: 'bb300cfdad3c16e7a12a480ee83cd310',
  },
};

/** Smallest files first, so a corrupt label file fails before we hash 47 MB. */
export const FILE_NAMES: readonly FileName[] = [
  't10k-labels-idx1-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  'train-images-idx3-ubyte',
];

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Why the bytes differ from the pinned file, or null when they match exactly. */
export function checksumMismatch(name: FileName, bytes: Uint8Array): { expected: string; found: string } | null {
  const spec = FILES[name];
  if (bytes.length !== spec.bytes) {
    return { expected: `size ${spec.bytes} bytes (decompressed)`, found: `${bytes.length} bytes` };
  }
  const got = sha256Hex(bytes);
  if (got !== spec.sha256) {
    return { expected: `sha256 ${spec.sha256} (decompressed)`, found: `sha256 ${got}` };
  }
  return null;
}
