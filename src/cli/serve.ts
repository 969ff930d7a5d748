// nanscope serve: the dashboard over a runs folder, until Ctrl-C.
import { resolve } from 'node:path';
import { startServer } from '../server/index.js';
import { UsageError, bool, helpText, num, parseArgs, str, type Flags } from './args.js';
import { onStopSignals } from './signals.js';

const FLAGS: Flags = {
  port: { type: 'int', help: 'port to listen on (0 picks a free one)', default: 8787 },
  host: { type: 'string', help: 'address to bind; anything but loopback exposes your runs to the network', default: '127.0.0.1' },
  'runs-dir': { type: 'string', help: 'runs folder (database + one folder per run)', default: 'runs' },
  'exit-with-parent': { type: 'bool', help: 'stop when stdin closes (train --serve starts the server so)' },
  help: { type: 'bool', help: 'show this help' },
};

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/;

export async function serveCommand(argv: string[]): Promise<number> {
  let port: number;
  let host: string;
  let runsDir: string;
  let withParent = false;
  try {
    const p = parseArgs(argv, FLAGS, 'serve');
    if (bool(p, 'help')) {
      process.stdout.write(helpText('serve', '[flags]', FLAGS, '\nOpen the printed URL in a browser; Ctrl-C stops the server.\n'));
      return 0;
    }
    if (p.positional.length) throw new UsageError(`serve: unexpected argument '${p.positional[0]}'`);
    port = num(p, 'port') as number;
    host = str(p, 'host') as string;
    runsDir = str(p, 'runs-dir') as string;
    withParent = bool(p, 'exit-with-parent');
    if (port < 0 || port > 65535) throw new UsageError(`serve: --port must be within 0..65535, got ${port}`);
    if (!host) throw new UsageError('serve: --host must not be empty');
    if (!runsDir) throw new UsageError('serve: --runs-dir must not be empty');
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`nanscope ${e.message.startsWith('serve:') ? '' : 'serve: '}${e.message}\n`);
      return 2;
    }
    throw e;
  }

  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ runsRoot: resolve(runsDir), port, host });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? `port ${port} on ${host} is already in use (try --port 0 or another port)`
        : code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
          ? `cannot bind to ${host}`
          : code === 'EACCES'
            ? `not allowed to bind ${host}:${port}`
            : (e as Error).message;
    process.stderr.write(`nanscope serve: ${why}\n`);
    return 1;
  }
  if (!LOOPBACK.test(host)) {
    process.stderr.write(`nanscope serve: warning: listening on ${host}; the dashboard has no authentication\n`);
  }
  process.stdout.write(`nanscope dashboard: ${server.url}  (runs: ${resolve(runsDir)}; Ctrl-C to stop)\n`);
  await new Promise<void>((done) => {
    const stop = (): void => {
      off();
      if (withParent) process.stdin.destroy(); // an open stdin would keep this process alive
      done();
    };
    const off = onStopSignals(stop);
    if (withParent) {
      process.stdin.on('end', stop);
      process.stdin.on('close', stop);
      process.stdin.resume();
    }
  });
  await server.close();
  return 0;
}
