// nanscope runs: the stored runs, newest first.
import { d2lNum } from '../diagnose/format.js';
import { parseArgs, helpText, str, num, bool, type Flags } from './args.js';
import { RUNS_DIR_FLAG, openRuns } from './common.js';
import { RUN_STATUSES, shortMachine, type RunStatus } from '../store/index.js';

const FLAGS: Flags = {
  'runs-dir': RUNS_DIR_FLAG,
  status: { type: 'string', help: 'only runs with this status', choices: RUN_STATUSES },
  limit: { type: 'int', help: 'at most N runs', default: 30, min: 1 },
  help: { type: 'bool', help: 'show this help' },
};

const f3 = d2lNum;

export async function runsCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, FLAGS, 'runs');
  if (bool(p, 'help')) { process.stdout.write(helpText('runs', '[flags]', FLAGS)); return 0; }
  const store = openRuns(str(p, 'runs-dir')!, { readOnly: true });
  try {
    if (!store.readonly) store.interruptStaleRuns();
    const rows = store.listRuns({ limit: num(p, 'limit'), status: str(p, 'status') as RunStatus | undefined });
    process.stdout.write(`${'id'.padEnd(44)} ${'status'.padEnd(11)} ${'verdict'.padEnd(10)} ${'steps'.padStart(6)} ${'nan@'.padStart(6)} ${'loss'.padStart(7)} ${'test'.padStart(6)}  ${'host'.padEnd(16)} machine\n`);
    for (const r of rows) {
      const v = (r.verdict as { run?: string } | null)?.run ?? '-';
      process.stdout.write(`${r.id.padEnd(44)} ${r.status.padEnd(11)} ${v.padEnd(10)} ${String(r.stepsDone).padStart(6)} ${String(r.firstNanStep ?? '-').padStart(6)} ${f3(r.finalLoss).padStart(7)} ${f3(r.finalTestAcc).padStart(6)}  ${(r.host ?? '-').padEnd(16)} ${shortMachine(r.machine)}\n`);
    }
    return 0;
  } finally {
    store.close();
  }
}
