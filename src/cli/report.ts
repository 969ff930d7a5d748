// nanscope report RUN --out report.html [--png DIR]: a self-contained HTML
// report of one run (opens offline), optionally its key plots as PNG files.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OutRefused, ReportError, pngTargets, writePngs, writeReport } from '../report/index.js';
import { UsageError, bool, helpText, parseArgs, str, type Flags } from './args.js';
import { runLocation, RUN_ARG_HELP } from './run-location.js';

const FLAGS: Flags = {
  out: { type: 'string', help: 'HTML file to write (replaces only an earlier report unless --force)', default: 'report.html' },
  force: { type: 'bool', help: 'replace an existing --out file that is not a report (never the runs folder\'s own files)' },
  png: { type: 'string', help: 'also write the key plots as PNG files into this folder (needs Chromium)' },
  lang: { type: 'string', help: 'en | zh: language of verdicts and explanations in the PNGs', default: 'en' },
  'runs-dir': { type: 'string', help: 'runs folder (database + one folder per run)', default: 'runs' },
  help: { type: 'bool', help: 'show this help' },
};

export async function reportCommand(argv: string[]): Promise<number> {
  let runId: string;
  let out: string;
  let png: string | undefined;
  let runsDir: string;
  let lang: 'en' | 'zh';
  let force: boolean;
  try {
    const p = parseArgs(argv, FLAGS, 'report');
    if (bool(p, 'help')) {
      process.stdout.write(helpText('report', 'RUN [flags]', FLAGS, RUN_ARG_HELP));
      return 0;
    }
    if (p.positional.length === 0) throw new UsageError('report: which run? (nanscope runs lists them)');
    if (p.positional.length > 1) throw new UsageError(`report: unexpected argument '${p.positional[1]}'`);
    ({ root: runsDir, id: runId } = runLocation(p.positional[0], str(p, 'runs-dir') as string, 'report'));
    out = str(p, 'out') as string;
    png = str(p, 'png');
    const l = str(p, 'lang');
    if (l !== 'en' && l !== 'zh') throw new UsageError(`report: --lang must be en or zh, got '${l}'`);
    lang = l;
    force = bool(p, 'force');
    if (!out) throw new UsageError('report: --out must not be empty');
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`nanscope ${e.message.startsWith('report:') ? '' : 'report: '}${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const root = resolve(runsDir);
  if (!existsSync(join(root, 'nanscope.db'))) {
    process.stderr.write(`nanscope report: no runs folder at ${root} (use --runs-dir)\n`);
    return 1;
  }
  try {
    if (png) pngTargets({ dir: png, runsRoot: root, force }); // refused before the HTML is written
    const r = await writeReport({ runsRoot: root, runId, out, force });
    process.stdout.write(`report: ${r.out} (${(r.bytes / 1024).toFixed(0)} KiB)\n`);
    if (png) {
      const files = await writePngs({ runsRoot: root, runId, dir: png, lang, force });
      process.stdout.write(`plots: ${files.length} PNG files in ${resolve(png)}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof ReportError) {
      process.stderr.write(`nanscope report: ${e.message}\n`);
      return e instanceof OutRefused ? 2 : 1;
    }
    throw e;
  }
}
