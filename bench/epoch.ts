// The whole-epoch case of the bench: what a user waits for. Each side runs in fresh processes:
// PyTorch (torch_worker.py's `epochs`: d2l's train_ch6 with its DataLoaders and evaluation) and
// `nanscope train` (epoch_child.ts: probes, store, checkpoint and evaluation as by default).
// Sides alternate which goes first; ratios are per pair (PyTorch time / nanscope time, above 1:
// nanscope faster), medians over the pairs. The first epoch and a later one are kept apart: the
// first pays PyTorch's loader start-up and nanscope's resize into its cache. The tables are
// rendered by perf-doc.ts.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PHASES, type EpochTiming } from '../src/train/phases.js';
import { TorchWorker, benchEnv } from './worker.js';
import type { EpochCase, EpochResult, Side } from './perf-types.js';

export interface EpochFiles { images: string; labels: string; test_images: string; test_labels: string }

/** d2l's get_dataloader_workers(): the DataLoader workers every d2l chapter trains with. */
export const D2L_WORKERS = 4;
/** The first epoch and one later one: the later is the steady state every further epoch repeats. */
const EPOCHS = 2;

/**
 * The cases the bench runs. Full: several thousand images at 96 (steps dominate, as in d2l's
 * 60000), and 224 at d2l's batch 128 (12 steps an epoch), sized so the whole `npm run bench`
 * takes about 10 minutes on an idle 2-core machine. Quick: one small case, well under a minute.
 */
export const EPOCH_CASES: { full: EpochCase[]; quick: EpochCase[] } = {
  full: [{ side: 96, batch: 128, n: 4096, nTest: 1024 }, { side: 224, batch: 128, n: 1536, nTest: 512 }],
  quick: [{ side: 96, batch: 128, n: 512, nTest: 256 }],
};

async function torchSide(c: EpochCase, threads: number, workers: number, files: EpochFiles): Promise<Side> {
  const w = new TorchWorker();
  try {
    type PyEpoch = { wall_s: number; cpu_s: number; phases: Record<string, { wall_s: number; cpu_s: number }> };
    const r = await w.call<{ epochs: PyEpoch[] }>({ op: 'epochs', model: 'alexnet', ...c, n_test: c.nTest, epochs: EPOCHS, threads, workers, ...files });
    const rss = (await w.call<{ maxrss_kb: number }>({ op: 'rss' })).maxrss_kb;
    return {
      rssMb: rss / 1024,
      epochs: r.epochs.map((e) => ({ wall: e.wall_s, cpu: e.cpu_s,
        phases: Object.fromEntries(Object.entries(e.phases).map(([k, v]) => [k, { wall: v.wall_s, cpu: v.cpu_s }])) })),
    };
  } finally {
    w.close();
  }
}

/** One fresh `train` process; built: the compiled build to import the trainer from (bench/built.ts), null: the source. */
function nsSide(c: EpochCase, threads: number, built: string | null): Side {
  const args = [c.side, c.batch, c.n, c.nTest, threads, EPOCHS].map(String);
  const env = built ? { ...benchEnv, NANSCOPE_BENCH_BUILT: built } : benchEnv;
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'epoch_child.ts'), ...args], { env, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`epoch child failed: ${child.stderr}`);
  const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as { epochs: EpochTiming[]; maxrss_kb: number };
  return {
    rssMb: r.maxrss_kb / 1024,
    epochs: r.epochs.map((e) => ({ wall: e.wallMs / 1000, cpu: e.cpuMs / 1000,
      phases: Object.fromEntries(PHASES.map((p) => [p, { wall: e.phases[p].wallMs / 1000, cpu: e.phases[p].cpuMs / 1000 }])) })),
  };
}

export async function epochCase(c: EpochCase, o: { reps: number; threads: number; workers: number; files: EpochFiles; built: string | null }): Promise<EpochResult> {
  const out: EpochResult = { torch: [], ns: [], epochs: EPOCHS, workers: o.workers, threads: o.threads, nanscopeFrom: o.built ? 'built' : 'source' };
  for (let i = 0; i < o.reps; i++) {
    if (i % 2 === 0) out.torch.push(await torchSide(c, o.threads, o.workers, o.files));
    out.ns.push(nsSide(c, o.threads, o.built));
    if (i % 2 === 1) out.torch.push(await torchSide(c, o.threads, o.workers, o.files));
  }
  return out;
}
