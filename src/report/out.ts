// Where a report may be written. `--out` is typed by a user and may name anything: the run
// store's own database, a checkpoint, a device node. A report only ever replaces a previous
// report, or (with --force) some other plain file outside the runs folder; it never touches
// the store's files, never writes through a symlink and never replaces a device, folder or pipe.
import { closeSync, lstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { basename, dirname, join, relative, resolve, isAbsolute } from 'node:path';
import { OutRefused } from './errors.js';

/** The marker renderReportHtml puts in every report's <head>. */
export const REPORT_GENERATOR = '<meta name="generator" content="nanscope report" />';

function realOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p; // not there yet: nothing to resolve
  }
}

function head(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4096);
    return b.subarray(0, readSync(fd, b, 0, b.length, 0));
  } finally {
    closeSync(fd);
  }
}

/** What the report and its plots may replace without --force: an earlier report, an earlier plot. */
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const isReport = (path: string): boolean => head(path).toString('utf8').includes(REPORT_GENERATOR);
export const isPng = (path: string): boolean => head(path).subarray(0, 8).equals(PNG_MAGIC);

/**
 * The absolute path to write the report to, or an OutRefused saying why not. The parent
 * folder is resolved through symlinks so that `runs/../runs/nanscope.db` or a linked folder
 * cannot reach the store's files by another name.
 */
export function checkReportOut(out: string, runsRoot: string, force = false, ours: (path: string) => boolean = isReport, flag = '--out'): string {
  const abs = resolve(out);
  const target = join(realOrSelf(dirname(abs)), basename(abs));
  const root = realOrSelf(resolve(runsRoot));
  const rel = relative(root, target);
  const inRoot = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  const refuse = (why: string): never => { throw new OutRefused(`${flag} ${out}: ${why}`); };
  if (target === root) refuse('is the runs folder');
  if (inRoot && rel.split(/[\\/]/)[0].startsWith('nanscope.db')) refuse('is the run store\'s database; a report never replaces it');
  let st: Stats;
  try {
    st = lstatSync(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return abs;
    throw err;
  }
  if (st.isSymbolicLink()) refuse('is a symlink; give the real path of the file to write');
  if (!st.isFile()) refuse(`exists and is not a plain file (${st.isDirectory() ? 'a folder' : 'a device, pipe or socket'}); pick a file name`);
  if (ours(target)) return abs;
  const what = ours === isPng ? 'a PNG plot' : 'a nanscope report';
  if (inRoot) refuse(`is a file of the runs folder (a run's own file), not ${what}; pick a path outside it or a new name`);
  if (!force) refuse(`exists and is not ${what}; pick another name, or pass --force to replace it`);
  return abs;
}
