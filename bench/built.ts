// The epoch case times `nanscope train` as a user runs it: the built package (compiled JS), not
// the TypeScript source through tsx. From source every worker thread the trainer starts (the two
// loaders' resize prefetchers, the checkpoint writer) first registers tsx and transpiles its
// modules: measured +25 MB RSS and +0.4 s CPU per thread (loaded 2-core machine), all of it in
// the first epoch and the peak RSS, none of it in the package. So the bench compiles src/ once
// (tsconfig.build.json, as `npm run build:ts` does) into its own ignored folder, not dist/, and
// the epoch child imports the trainer from there.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** Where the bench's build goes: at the repository's top level, so native.ts finds ../native as from dist/. */
export const BUILT_DIR = '.bench-build';

/** Compiles src/ into root/.bench-build; returns its path. Throws with tsc's output when it fails. */
export function buildForBench(root: string): string {
  const out = join(root, BUILT_DIR);
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out, '--declaration', 'false', '--sourceMap', 'false'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`compiling src/ for the epoch case failed (rerun with --from-source to skip it):\n${r.stdout}${r.stderr}`);
  return out;
}
