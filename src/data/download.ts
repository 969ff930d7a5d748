/**
 * Fetch one official Fashion-MNIST .gz into a directory, atomically:
 * stream into `<name>.gz.part-<pid>`, verify the sha256 of the decompressed
 * bytes, then rename into place. Any failure (HTTP error, connection cut off,
 * idle timeout, corrupt body) deletes the part file, so a later run simply
 * retries and never mistakes half a file for the dataset.
 *
 * The fetch function is injectable so tests can point it at a local server;
 * the default is Node's global fetch against the official S3 mirror.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { checksumMismatch, type FileName } from './checksums.js';
import { DataError } from './errors.js';
import { gunzipFile } from './gunzip.js';
import { startProgress, type ProgressSink } from './progress.js';

export const OFFICIAL_BASE_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com';

/** The subset of a fetch Response we use; Node's global fetch satisfies it. */
export interface FetchResponseLike {
  ok: boolean;
  status: number;
  statusText: string;
  headers: { get(name: string): string | null };
  body: {
    getReader(): {
      read(): Promise<{ done: boolean; value?: Uint8Array }>;
      cancel(reason?: unknown): Promise<void>;
    };
  } | null;
}

export type FetchLike = (url: string, init: { signal: AbortSignal }) => Promise<FetchResponseLike>;

export interface DownloadOptions {
  fetch?: FetchLike;
  /** Base URL; `<base>/<name>.gz` is fetched. Default: the official mirror. */
  baseUrl?: string;
  /** Where progress goes; default process.stderr. */
  progress?: ProgressSink;
  /** Abort if no bytes arrive for this long (ms). Default 60 s. */
  idleTimeoutMs?: number;
}

const defaultFetch: FetchLike = (url, init) => fetch(url, init);

/** Download `<name>.gz` into `dir`; returns the final path. Throws DataError. */
export async function downloadFile(name: FileName, dir: string, opts: DownloadOptions = {}): Promise<string> {
  const url = `${(opts.baseUrl ?? OFFICIAL_BASE_URL).replace(/\/+$/, '')}/${name}.gz`;
  const finalPath = join(dir, `${name}.gz`);
  const partPath = `${finalPath}.part-${process.pid}`;
  const fix = `check your network and re-run (partial download was removed), or apt-get install dataset-fashion-mnist`;
  mkdirSync(dir, { recursive: true });

  const controller = new AbortController();
  const idleMs = opts.idleTimeoutMs ?? 60_000;
  let idle: NodeJS.Timeout | undefined;
  const kick = (): void => {
    clearTimeout(idle);
    idle = setTimeout(() => controller.abort(new Error(`no data for ${idleMs} ms`)), idleMs);
  };

  let fd: number | undefined;
  let received = 0;
  let total: number | null = null;
  try {
    kick();
    let res: FetchResponseLike;
    try {
      res = await (opts.fetch ?? defaultFetch)(url, { signal: controller.signal });
    } catch (err) {
      throw new DataError(url, 'an HTTP response', `request failed (${describe(err)})`, fix, err);
    }
    if (!res.ok || !res.body) {
      throw new DataError(url, 'HTTP 200 with a body', `HTTP ${res.status} ${res.statusText}`.trim(), fix);
    }
    const len = Number(res.headers.get('content-length'));
    total = Number.isSafeInteger(len) && len > 0 ? len : null;
    const progress = startProgress(`${name}.gz`, total, opts.progress ?? process.stderr);
    fd = openSync(partPath, 'w');
    const reader = res.body.getReader();
    try {
      for (;;) {
        kick();
        const { done, value } = await reader.read();
        if (done) break;
        if (value) {
          writeSync(fd, value);
          received += value.length;
          progress.update(received);
        }
      }
    } catch (err) {
      throw new DataError(
        url,
        total !== null ? `${total} bytes` : 'a complete response body',
        `download cut off after ${received} bytes (${describe(err)})`,
        fix,
        err,
      );
    } finally {
      progress.done();
    }
    closeSync(fd);
    fd = undefined;
    if (total !== null && received !== total) {
      throw new DataError(url, `${total} bytes (Content-Length)`, `${received} bytes (download cut off)`, fix);
    }
    // Verify what is on disk, not what we think we wrote.
    const idx = gunzipFile(readFileSync(partPath), url, fix);
    const bad = checksumMismatch(name, idx);
    if (bad) throw new DataError(url, bad.expected, `${bad.found} (corrupt download)`, fix);
    renameSync(partPath, finalPath);
    return finalPath;
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(partPath, { force: true });
    throw err;
  } finally {
    clearTimeout(idle);
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message}${cause}`;
}
