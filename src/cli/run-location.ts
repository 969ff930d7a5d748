// Where a RUN argument points: an id in the runs folder or a run folder's path. Kept apart from
// runref.ts (which reads checkpoints) so that report and serve resolve runs without the engine.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { UsageError } from './args.js';

/**
 * Where RUN lives: a run id in the runs folder (--runs-dir), or, when it names a path (has a
 * '/', or is '.'/'..'), a run folder itself, e.g. the path train prints after `run ID ->`:
 * the folder's parent is its runs folder and its name is the id. Works from any directory.
 */
export function runLocation(arg: string | undefined, runsDir: string, command: string): { root: string; id: string } {
  if (!arg) throw new UsageError(`${command}: which run? (nanscope runs lists them)`);
  const isPath = arg.includes('/') || arg.includes(sep) || arg === '.' || arg === '..';
  if (!isPath) return { root: resolve(runsDir), id: arg };
  const dir = resolve(arg === '~' || arg.startsWith('~/') ? join(homedir(), arg.slice(1)) : arg);
  const root = dirname(dir);
  if (!existsSync(join(root, 'nanscope.db'))) {
    throw new UsageError(`${command}: ${arg} is not a run folder (no nanscope.db in ${root}); pass a run folder or a run id with --runs-dir`);
  }
  return { root, id: basename(dir) };
}

/** The help line every command taking RUN prints. */
export const RUN_ARG_HELP = '\nRUN is a run id in --runs-dir (nanscope runs lists them) or a run folder, e.g. the path train prints.\n';
