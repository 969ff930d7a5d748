#!/usr/bin/env node
// nanscope's launcher. OpenMP threads wait passively (spinning OpenMP workers were measured
// slower than one thread on a 2-core machine); this must be set before libtorch loads.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

process.env.OMP_WAIT_POLICY ??= 'passive';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist/cli/main.js');
let mod;
if (existsSync(built)) {
  mod = await import(pathToFileURL(built).href);
} else {
  // Not compiled yet: run the TypeScript sources through tsx.
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(pathToFileURL(join(root, 'src/cli/main.ts')).href);
}
process.exitCode = await mod.main(process.argv.slice(2));
