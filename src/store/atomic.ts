// Crash-safe file writes for checkpoints and other run files: the target path
// only ever holds a complete old version or a complete new one. Data goes to a
// temp file in the same directory (rename is only atomic within a filesystem),
// is fsynced, renamed over the target, and the directory is fsynced so the
// rename itself survives a power loss.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fromJson, toJson } from './json.js';

/** Bytes, text, or a writer that streams into the open temp file (e.g. a checkpoint's tensors). */
export type FileData = string | NodeJS.ArrayBufferView | ((fd: number) => void);

// A byte view over any typed array (no copy), so Float32Array weights can be written directly.
function bytes(data: string | NodeJS.ArrayBufferView): string | Uint8Array {
  return typeof data === 'string' ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tempPathFor(path: string): string {
  // Hidden, unique per process and call, so concurrent writers never share one.
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

// Some platforms/filesystems cannot open or fsync a directory; the file data
// is already durable then, so only the rename's durability is best-effort.
function ignorableDirSyncError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM' || code === 'EACCES' || code === 'ENOTSUP';
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    if (!ignorableDirSyncError(err)) throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!ignorableDirSyncError(err)) throw err;
  } finally {
    await handle?.close();
  }
}

/** Atomically replace `path` with `data` (parent directories are created). */
export function writeFileAtomicSync(path: string, data: FileData): void {
  const dir = dirname(path);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = tempPathFor(path);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx+'); // readable too: a streamed writer may read back what it wrote (checksums)
    if (typeof data === 'function') data(fd);
    else fs.writeFileSync(fd, bytes(data));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirSync(dir);
}

/** Async version of {@link writeFileAtomicSync}. */
export async function writeFileAtomic(path: string, data: FileData): Promise<void> {
  const dir = dirname(path);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = tempPathFor(path);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(tmp, 'wx');
    if (typeof data === 'function') data(handle.fd);
    else await handle.writeFile(bytes(data));
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, path);
  } catch (err) {
    await handle?.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/** Atomically write `value` as JSON (NaN/Infinity preserved, see toJson). */
export async function writeJsonAtomic(path: string, value: unknown, space = 2): Promise<void> {
  await writeFileAtomic(path, toJson(value, space) + '\n');
}

export function writeJsonAtomicSync(path: string, value: unknown, space = 2): void {
  writeFileAtomicSync(path, toJson(value, space) + '\n');
}

/** Read a JSON file written by writeJsonAtomic (or any JSON). The type is the caller's claim. */
export async function readJson<T = unknown>(path: string): Promise<T> {
  return parseNamed<T>(await fsp.readFile(path, 'utf8'), path);
}

/** JSON.parse's errors do not say which file; these do. */
function parseNamed<T>(text: string, path: string): T {
  try {
    return fromJson<T>(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

export function readJsonSync<T = unknown>(path: string): T {
  return parseNamed<T>(fs.readFileSync(path, 'utf8'), path);
}
