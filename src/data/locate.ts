/**
 * Find the four Fashion-MNIST files. Search order:
 *   1. `dataDir` option            -- explicit: missing files are an error
 *   2. env FASHION_MNIST_DIR       -- explicit too, same rule
 *   3. user cache: $XDG_CACHE_HOME/nanscope/fashion-mnist,
 *      else ~/.cache/nanscope/fashion-mnist
 *   4. /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist)
 *   5. download the missing files into the user cache.
 * Explicit locations never fall through: if you pointed us somewhere, using a
 * different copy silently would hide your mistake. Implicit locations (3, 4)
 * are used only when they hold all four files, so one run never mixes copies,
 * except that step 5 completes a partially filled cache.
 *
 * In a directory, `<name>` (uncompressed) is preferred over `<name>.gz`
 * because it skips gunzip; both are verified the same way.
 */
import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FILE_NAMES, type FileName } from './checksums.js';
import { downloadFile, OFFICIAL_BASE_URL, type DownloadOptions } from './download.js';
import { DataError } from './errors.js';

export const SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

export type SourceKind = 'dataDir' | 'env' | 'cache' | 'system' | 'download';

export interface LocateOptions extends DownloadOptions {
  dataDir?: string;
  /** Environment to read FASHION_MNIST_DIR / XDG_CACHE_HOME from; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Override the user cache directory (tests). */
  cacheDir?: string;
  /** Override system directories searched (tests); default [SYSTEM_DIR]. */
  systemDirs?: readonly string[];
  log?: (s: string) => void;
}

export interface Located {
  dir: string;
  kind: SourceKind;
  files: Record<FileName, string>;
  /** What to tell the user if one of these files turns out to be bad. */
  fix: string;
}

export function defaultCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && xdg.length > 0 ? xdg : join(homedir(), '.cache');
  return join(base, 'nanscope', 'fashion-mnist');
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Path of `name` in `dir` (uncompressed preferred), or null. */
export function findInDir(dir: string, name: FileName): string | null {
  for (const p of [join(dir, name), join(dir, `${name}.gz`)]) if (isFile(p)) return p;
  return null;
}

function scan(dir: string): { found: Partial<Record<FileName, string>>; missing: FileName[] } {
  const found: Partial<Record<FileName, string>> = {};
  const missing: FileName[] = [];
  for (const name of FILE_NAMES) {
    const p = findInDir(dir, name);
    if (p) found[name] = p;
    else missing.push(name);
  }
  return { found, missing };
}

function fixFor(kind: SourceKind, dir: string): string {
  switch (kind) {
    case 'dataDir':
    case 'env':
      return `replace it with the official file from ${OFFICIAL_BASE_URL}, or point ${kind === 'env' ? 'FASHION_MNIST_DIR' : 'dataDir'} at ${SYSTEM_DIR} after apt-get install dataset-fashion-mnist`;
    case 'system':
      return 'apt-get install --reinstall dataset-fashion-mnist';
    case 'cache':
    case 'download':
      return `delete it and re-run to download again (cache: ${dir}), or apt-get install dataset-fashion-mnist`;
  }
}

function explicit(dir: string, kind: 'dataDir' | 'env'): Located {
  const opt = kind === 'env' ? 'FASHION_MNIST_DIR' : 'dataDir';
  const where = `${opt} ${dir}`;
  const fix =
    `put the four official files (.gz or uncompressed) in ${dir}, point ${opt} at ${SYSTEM_DIR} ` +
    `after apt-get install dataset-fashion-mnist, or unset ${opt} to use the cache / system copy / download`;
  if (!existsSync(dir)) {
    throw new DataError(dir, `a directory with the Fashion-MNIST files (${where})`, 'no such directory', fix);
  }
  const { found, missing } = scan(dir);
  if (missing.length > 0) {
    const first = missing[0]!;
    throw new DataError(join(dir, first), `${first} or ${first}.gz in ${where}`, `missing: ${missing.join(', ')}`, fix);
  }
  return { dir, kind, files: found as Record<FileName, string>, fix: fixFor(kind, dir) };
}

export async function locateFashionMnist(opts: LocateOptions = {}): Promise<Located> {
  const env = opts.env ?? process.env;
  if (opts.dataDir !== undefined) return explicit(opts.dataDir, 'dataDir');
  const envDir = env.FASHION_MNIST_DIR;
  if (envDir !== undefined && envDir !== '') return explicit(envDir, 'env');

  const cacheDir = opts.cacheDir ?? defaultCacheDir(env);
  const candidates: { dir: string; kind: SourceKind }[] = [
    { dir: cacheDir, kind: 'cache' },
    ...(opts.systemDirs ?? [SYSTEM_DIR]).map((dir) => ({ dir, kind: 'system' as const })),
  ];
  for (const { dir, kind } of candidates) {
    const { found, missing } = scan(dir);
    if (missing.length === 0) return { dir, kind, files: found as Record<FileName, string>, fix: fixFor(kind, dir) };
  }

  const { found, missing } = scan(cacheDir);
  opts.log?.(`fashion-mnist: not found locally; downloading ${missing.length} file(s) into ${cacheDir}`);
  for (const name of missing) found[name] = await downloadFile(name, cacheDir, opts);
  return { dir: cacheDir, kind: 'download', files: found as Record<FileName, string>, fix: fixFor('download', cacheDir) };
}
