// nanscope worker --queue redis://HOST:PORT: runs cells of queued sweeps (see queue/worker.ts).
import { parseArgs, helpText, str, num, bool, UsageError, type Flags } from './args.js';
import { checkQueueUrl } from '../queue/url.js';

const FLAGS: Flags = {
  queue: { type: 'string', help: 'redis://[:PASSWORD@]HOST:PORT[/DB] of the sweep coordinator\'s Redis (required)' },
  concurrency: { type: 'int', help: 'cells run at the same time', default: 1, min: 1 },
  threads: { type: 'int', help: 'intra-op threads per cell, replacing the sweep\'s (default: the sweep\'s, 1 unless it set --threads)', min: 1 },
  'lock-seconds': { type: 'number', help: 'job lock, renewed every half of it; a killed worker\'s cells go to another worker after 1-2 of it', default: 30, min: 1 },
  'work-dir': { type: 'string', help: 'folder for each cell\'s temporary store (default: the system temp folder)' },
  help: { type: 'bool', help: 'show this help' },
};

export async function workerCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, FLAGS, 'worker');
  if (bool(p, 'help')) {
    process.stdout.write(helpText('worker', '--queue redis://HOST:PORT [--concurrency N] [--threads T]', FLAGS,
      '\nEach cell runs as its own `nanscope train` child process; its run comes back to the sweep\'s store as a bundle.\n' +
      'Ctrl-C: finish the cells in hand and stop; Ctrl-C again: stop them now and return them to the queue.\n'));
    return 0;
  }
  if (p.positional.length) throw new UsageError(`unexpected argument '${p.positional[0]}'`);
  const url = str(p, 'queue');
  if (url === undefined) throw new UsageError('give --queue redis://HOST:PORT (the Redis the sweep was enqueued on)');
  checkQueueUrl(url);
  const { runWorker } = await import('../queue/worker.js');
  return runWorker({ url, concurrency: num(p, 'concurrency')!, threads: num(p, 'threads'), lockSeconds: num(p, 'lock-seconds')!, workDir: str(p, 'work-dir') });
}
