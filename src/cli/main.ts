// nanscope's command line: one function per sub-command; exit codes 0 ok, 1 error,
// 2 bad usage, 3 the run diverged (NaN/Inf), 130 interrupted.
import { UsageError } from './args.js';

const COMMANDS: Record<string, { help: string; load: () => Promise<(argv: string[]) => Promise<number>> }> = {
  train: { help: 'train a d2l network (or your own: --model FILE) on Fashion-MNIST, every layer watched', load: async () => (await import('./train.js')).trainCommand },
  replay: { help: 're-execute the bad step of a run and locate the first NaN/Inf again', load: async () => (await import('./replay.js')).replayCommand },
  resume: { help: 'continue a run from its saved state, optionally with a fix', load: async () => (await import('./resume.js')).resumeCommand },
  doctor: { help: 'try the ranked fixes of a run that went bad, in parallel, and recommend the cheapest that held', load: async () => (await import('./doctor.js')).doctorCommand },
  experiment: { help: 'run a named experiment (phenomenon-1..3, bn-fix, vanishing, bn-effects, d2l-baseline, d2l-nin, d2l-googlenet)', load: async () => (await import('./experiment.js')).experimentCommand },
  fidelity: { help: 'the table of d2l\'s own recipes run here beside d2l\'s printed lines (from recorded runs)', load: async () => (await import('./fidelity.js')).fidelityCommand },
  sweep: { help: 'run a grid of training runs in parallel workers (here, or queued on Redis)', load: async () => (await import('./sweep.js')).sweepCommand },
  worker: { help: 'run cells of queued sweeps from Redis (nanscope sweep --queue)', load: async () => (await import('./worker.js')).workerCommand },
  runs: { help: 'list runs in the store', load: async () => (await import('./runs.js')).runsCommand },
  serve: { help: 'start the dashboard', load: async () => (await import('./serve.js')).serveCommand },
  report: { help: 'write a self-contained HTML report of a run', load: async () => (await import('./report.js')).reportCommand },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(12)} ${v.help}`).join('\n');
  return `nanscope: see loss NaN, exploding and vanishing gradients, explained and fixed\n\nusage: nanscope <command> [flags]   (nanscope <command> --help)\n\n${rows}\n`;
}

/**
 * A closed stdout or stderr (`nanscope runs | head -1`, a closed terminal) must not kill a
 * command, least of all a training run: what it still prints is dropped, the work goes on
 * and the store is written as usual.
 */
let surviving = false;
function surviveClosedOutput(): void {
  if (surviving) return;
  surviving = true;
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'EIO' || e.code === 'ERR_STREAM_DESTROYED') return;
      throw e;
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  surviveClosedOutput();
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') { process.stdout.write(usage()); return cmd ? 0 : 2; }
  const c = COMMANDS[cmd];
  if (!c) { process.stderr.write(`nanscope: unknown command '${cmd}'\n${usage()}`); return 2; }
  try {
    return await (await c.load())(rest);
  } catch (e) {
    // ConfigError, BusyError (a second writer for a live run) and ModelError are matched by name
    // so that serve/report never load the engine.
    if (e instanceof UsageError || (e instanceof Error && ['ConfigError', 'BusyError', 'ModelError'].includes(e.name))) { process.stderr.write(`nanscope ${cmd}: ${e.message}\n`); return 2; }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`nanscope ${cmd}: error: ${msg}\n`);
    if (process.env.NANSCOPE_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/cli/main.ts')) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
