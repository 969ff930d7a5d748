// A private redis-server for a test (Debian redis-server, installed by scripts/setup.sh): on
// 127.0.0.1 at a free port, no persistence, in a temp folder; stopped by the returned function.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tmp } from './helpers.js';

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((res) => srv.close(() => res()));
  return port;
}

export async function startRedis(): Promise<{ url: string; port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp('nanscope-redis-')],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((res, rej) => {
    proc.on('error', (e) => rej(new Error(`redis-server did not start (scripts/setup.sh installs it): ${e.message}`)));
    proc.on('exit', (c) => rej(new Error(`redis-server exited with ${c}: ${out}`)));
    proc.stdout!.on('data', (d) => { out += d; if (out.includes('Ready to accept connections')) res(); });
  });
  proc.removeAllListeners('exit');
  return {
    url: `redis://127.0.0.1:${port}`, port,
    stop: () => new Promise<void>((res) => { if (proc.exitCode !== null) return res(); proc.on('exit', () => res()); proc.kill('SIGTERM'); }),
  };
}
