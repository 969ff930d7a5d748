// This CLI as a child process: sweep workers and the dashboard of train --serve run as their
// own processes, started with the same Node flags (and tsx when running from source).
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function mainScript(): { script: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const script = join(here, '..', `main${ext}`);
  const execArgv = [...process.execArgv];
  if (ext === '.ts' && !execArgv.some((a) => a.includes('tsx'))) execArgv.push('--import', 'tsx');
  return { script, execArgv };
}
