// Where and how a bench run was made, for the lines printed beside every generated table: the
// command as typed, the commit (and whether the tree differed from it), the machine as the store
// records a run's (src/store/machine.ts), and how loaded the machine was before the run started.
import { spawnSync } from 'node:child_process';
import { thisMachine } from '../src/train/machine.js';
import type { RunInfo } from './perf-types.js';

/** Short hash of HEAD, '+ uncommitted changes' when tracked files differ from it; 'unknown' outside git. */
export function commitOf(dir: string): string {
  const git = (...a: string[]) => spawnSync('git', a, { cwd: dir, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'unknown (not a git checkout)';
  const dirty = git('status', '--porcelain', '--untracked-files=no').stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? ' + uncommitted changes' : ''}`;
}

/** The command as a user types it: `npm run bench -- <args>`. */
export const benchCommand = (args: readonly string[]): string => `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;

export function runInfo(o: { args: readonly string[]; startedMs: number; startedAt: Date; loadBefore: number[]; defaults: RunInfo['defaults']; dir: string }): RunInfo {
  return {
    command: benchCommand(o.args), date: o.startedAt, seconds: (performance.now() - o.startedMs) / 1000,
    commit: commitOf(o.dir), machine: thisMachine(), loadBefore: o.loadBefore, defaults: o.defaults,
  };
}
