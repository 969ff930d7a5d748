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

function isReport(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).toString('utf8').includes(REPORT_GENERATOR);
  } finally {
    closeSync(fd);
  }
}

/**
 * The absolute path to write the report to, or an OutRefused saying why not. The parent
 * folder is resolved through symlinks so that `runs/../runs/nanscope.db` or a linked folder
 * cannot reach the store's files by another name.
 */
export function checkReportOut(out: string, runsRoot: string, force = false): string {
  const abs = resolve(out);
  const target = join(realOrSelf(dirname(abs)), basename(abs));
  const root = realOrSelf(resolve(runsRoot));
  const rel = relative(root, target);
  const inRoot = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  const refuse = (why: string): never => { throw new OutRefused(`--out ${out}: ${why}`); };
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
  if (isReport(target)) return abs;
  if (inRoot) refuse('is a file of the runs folder (a run\'s own file), not a report; pick a path outside it or a new name');
  if (!force) refuse('exists and is not a nanscope report; pick another name, or pass --force to replace it');
  return abs;
}
