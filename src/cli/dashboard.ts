// The dashboard of train --serve, in its own process (nanscope serve): a training step holds the
// event loop for seconds at 224 px and so does the test evaluation, so a server on the training
// thread would answer nothing meanwhile. The store is SQLite in WAL mode: the server's reads
// never block the trainer's writes. The server exits with its parent (its stdin closes).
import { spawn } from 'node:child_process';
import { mainScript } from './cell-process.js';

export interface Dashboard { url: string; close(): Promise<void> }

/** Starts `nanscope serve` on the runs folder; null (with the reason on stderr) if it did not start. */
export async function startDashboard(runsRoot: string, port: number, host = '127.0.0.1'): Promise<Dashboard | null> {
  const { script, execArgv } = mainScript();
  const child = spawn(process.execPath, [...execArgv, script, 'serve', '--runs-dir', runsRoot, '--port', String(port), '--host', host, '--exit-with-parent'],
    { stdio: ['pipe', 'pipe', 'pipe'], detached: true }); // own process group: Ctrl-C stops training first, then close() stops this
  let out = '';
  let err = '';
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const url = await new Promise<string | null>((res) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /nanscope dashboard: (\S+)/.exec(out);
      if (m) res(m[1]);
    });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.once('exit', () => res(null));
    child.once('error', (e) => { err += e.message; res(null); });
  });
  if (!url) {
    process.stderr.write(`dashboard not started: ${err.trim().replace(/^nanscope serve: /, '') || 'the server exited'}\n`);
    return null;
  }
  child.stderr.removeAllListeners('data');
  child.stderr.on('data', (d: Buffer) => process.stderr.write(d)); // its warnings, from now on as they come
  child.stdout.resume();
  return {
    url,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.stdin.end(); // serve stops when its stdin closes
      const slow = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(slow);
    },
  };
}
