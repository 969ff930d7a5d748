// nanscope runs: the stored runs, newest first.
import { d2lNum } from '../diagnose/format.js';
import { parseArgs, helpText, str, num, bool, type Flags } from './args.js';
import { RUNS_DIR_FLAG, openRuns } from './common.js';
import { textTable, type Align } from './text-table.js';
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
    const head = ['id', 'status', 'verdict', 'steps', 'nan@', 'loss', 'test', 'host', 'machine'];
    const cells = rows.map((r) => [r.id, r.status, (r.verdict as { run?: string } | null)?.run ?? '-', String(r.stepsDone), String(r.firstNanStep ?? '-'),
      f3(r.finalLoss), f3(r.finalTestAcc), r.host ?? '-', shortMachine(r.machine)]);
    const align = head.map((_, i): Align => (i >= 3 && i <= 6 ? 'right' : 'left'));
    process.stdout.write(`${textTable(head, cells, align)}\n`);
    return 0;
  } finally {
    store.close();
  }
}
