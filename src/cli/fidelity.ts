// nanscope fidelity: the table of d2l's own recipes run here next to d2l's printed lines, read
// from the stores those runs were recorded in (--runs-dir, repeatable); with --write-results it
// becomes the block at the top of docs/RESULTS.md. Trains nothing: the rows' commands do that.
import { resolve } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs, helpText, str, bool, list, UsageError, type Flags } from './args.js';
import { fidelityTable, fidelitySection, placeFidelity, openForReading, FIDELITY_ROWS } from '../experiments/fidelity.js';
import { textTable } from '../experiments/table.js';
import { HEADER, withLock } from '../experiments/results.js';
import { writeFileAtomicSync, DB_FILE, type Store } from '../store/index.js';

const FLAGS: Flags = {
  'runs-dir': { type: 'list', help: 'a runs folder holding some of the rows\' runs (repeatable; default: runs)' },
  'write-results': { type: 'bool', help: 'write the table as the block at the top of the results file' },
  results: { type: 'string', help: 'results file for --write-results', default: 'docs/RESULTS.md' },
  note: { type: 'string', help: 'a line printed under the table (e.g. how busy the machine was when the runs were made)' },
  help: { type: 'bool', help: 'show this help' },
};

export async function fidelityCommand(argv: string[]): Promise<number> {
  const p = parseArgs(argv, FLAGS, 'fidelity');
  if (bool(p, 'help')) {
    process.stdout.write(helpText('fidelity', '[flags]', FLAGS));
    process.stdout.write(`\nrows (run by name; run each command with --runs-dir, then generate):\n${FIDELITY_ROWS.map((r) => `  ${r.name.padEnd(22)} ${r.notRun ?? `nanscope train ${r.flags} --name ${r.name}`}`).join('\n')}\n`);
    return 0;
  }
  if (p.positional.length) throw new UsageError(`fidelity: takes no positional arguments (got ${p.positional.join(' ')})`);
  const dirs = list(p, 'runs-dir');
  const roots = (dirs.length ? dirs : ['runs']).map((d) => resolve(d));
  for (const d of roots) if (!existsSync(resolve(d, DB_FILE))) throw new UsageError(`fidelity: no run store in ${d} (no ${DB_FILE})`);
  const stores: Store[] = [];
  try {
    for (const d of roots) stores.push(openForReading(d));
    process.stdout.write(`${textTable(fidelityTable(stores))}\n`);
    if (bool(p, 'write-results')) {
      const path = resolve(str(p, 'results')!);
      const command = ['nanscope fidelity', ...(dirs.length ? dirs : ['runs']).flatMap((d) => ['--runs-dir', d]), '--write-results'].join(' ');
      const section = fidelitySection(stores, { command, date: new Date(), note: str(p, 'note') });
      withLock(path, () => {
        const doc = existsSync(path) ? readFileSync(path, 'utf8') : HEADER;
        writeFileAtomicSync(path, placeFidelity(doc, section));
      });
      process.stdout.write(`wrote ${path}\n`);
    }
    return 0;
  } finally {
    for (const s of stores) s.close();
  }
}
