// The whole-epoch case of the bench: what a user waits for. Each side runs in fresh processes:
// PyTorch (torch_worker.py's `epochs`: d2l's train_ch6 with DataLoaders and evaluation) and
// `nanscope train` (epoch_child.ts: probes, store, checkpoint and evaluation as by default).
// Sides alternate which goes first; ratios are per pair (PyTorch time / nanscope time, above 1:
// nanscope faster), medians over the pairs. The first epoch and a later one are kept apart: the
// first pays PyTorch's loader start-up and nanscope's resize into its cache.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PHASES, type EpochTiming, type Phase } from '../src/train/phases.js';
import { TorchWorker, benchEnv, median } from './worker.js';

export interface EpochCase { side: number; batch: number; n: number; nTest: number }
export interface EpochFiles { images: string; labels: string; test_images: string; test_labels: string }

/** One epoch of either side, in seconds: its wall and CPU time, and per phase. */
interface Epoch { wall: number; cpu: number; phases: Partial<Record<Phase, { wall: number; cpu: number }>> }
interface Side { epochs: Epoch[]; rssMb: number }
export interface EpochResult { torch: Side[]; ns: Side[]; epochs: number; workers: number; threads: number }

/** PyTorch's DataLoader workers: 2, one per core here (what the bench always gave d2l's loop). */
const WORKERS = 2;
const EPOCHS = 2;

async function torchSide(c: EpochCase, threads: number, files: EpochFiles): Promise<Side> {
  const w = new TorchWorker();
  try {
    type PyEpoch = { wall_s: number; cpu_s: number; phases: Record<string, { wall_s: number; cpu_s: number }> };
    const r = await w.call<{ epochs: PyEpoch[] }>({ op: 'epochs', model: 'alexnet', ...c, n_test: c.nTest, epochs: EPOCHS, threads, workers: WORKERS, ...files });
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

function nsSide(c: EpochCase, threads: number): Side {
  const args = [c.side, c.batch, c.n, c.nTest, threads, EPOCHS].map(String);
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'epoch_child.ts'), ...args], { env: benchEnv, encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`epoch child failed: ${child.stderr}`);
  const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as { epochs: EpochTiming[]; maxrss_kb: number };
  return {
    rssMb: r.maxrss_kb / 1024,
    epochs: r.epochs.map((e) => ({ wall: e.wallMs / 1000, cpu: e.cpuMs / 1000,
      phases: Object.fromEntries(PHASES.map((p) => [p, { wall: e.phases[p].wallMs / 1000, cpu: e.phases[p].cpuMs / 1000 }])) })),
  };
}

export async function epochCase(c: EpochCase, reps: number, threads: number, files: EpochFiles): Promise<EpochResult> {
  const out: EpochResult = { torch: [], ns: [], epochs: EPOCHS, workers: WORKERS, threads };
  for (let i = 0; i < reps; i++) {
    if (i % 2 === 0) out.torch.push(await torchSide(c, threads, files));
    out.ns.push(nsSide(c, threads));
    if (i % 2 === 1) out.torch.push(await torchSide(c, threads, files));
  }
  return out;
}

const s2 = (x: number): string => x.toFixed(2);
const s3 = (x: number): string => x.toFixed(3);

/** Markdown tables: first and later epoch, side by side with ratios; then where the time went. */
export function printEpochCase(c: EpochCase, r: EpochResult): void {
  const which: [string, number][] = [['first', 0], ['later', r.epochs - 1]];
  const pairs = r.torch.length;
  console.log(`\nwhole epochs, AlexNet ${c.side}x${c.side} b${c.batch}, ${c.n} train / ${c.nTest} test images, evaluation on, ${r.threads} threads; ` +
    `PyTorch: d2l's train_ch6 loop, DataLoader with ${r.workers} workers; nanscope: \`train\` with its defaults (probes, store, checkpoint). ` +
    `Median of ${pairs} fresh-process pair(s); ratio = PyTorch time / nanscope time (above 1: nanscope faster). CPU: all threads and worker processes.\n`);
  console.log('| epoch | PyTorch wall s | nanscope wall s | ratio (wall) | PyTorch CPU s | nanscope CPU s | ratio (CPU) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, k] of which) {
    const tw = r.torch.map((s) => s.epochs[k].wall), nw = r.ns.map((s) => s.epochs[k].wall);
    const tc = r.torch.map((s) => s.epochs[k].cpu), nc = r.ns.map((s) => s.epochs[k].cpu);
    const pw = tw.map((t, i) => t / nw[i]), pc = tc.map((t, i) => t / nc[i]);
    console.log(`| ${name} | ${s2(median(tw))} | ${s2(median(nw))} | **${s3(median(pw))}** | ${s2(median(tc))} | ${s2(median(nc))} | ${s3(median(pc))} |`);
  }
  console.log(`\nwhere the time went, AlexNet ${c.side} (seconds, wall / CPU, medians; '-': the side has no such phase)\n`);
  console.log(`| phase | ${which.map(([n]) => `PyTorch ${n} | nanscope ${n}`).join(' | ')} |`);
  console.log(`|---|${which.map(() => '---|---').join('|')}|`);
  const cell = (sides: Side[], k: number, p: Phase | 'other'): string => {
    const vals = sides.map((s) => {
      const e = s.epochs[k];
      if (p !== 'other') return e.phases[p];
      const sum = (f: 'wall' | 'cpu') => Object.values(e.phases).reduce((a, v) => a + v[f], 0);
      return { wall: e.wall - sum('wall'), cpu: e.cpu - sum('cpu') };
    });
    if (vals.some((v) => v === undefined)) return '-';
    return `${s2(median(vals.map((v) => v!.wall)))} / ${s2(median(vals.map((v) => v!.cpu)))}`;
  };
  const label: Record<Phase | 'other', string> = { data: 'data (waiting for the batch)', step: 'step (forward, backward, update)', probes: 'probes',
    store: 'store writes', checkpoint: 'checkpoint', eval: 'evaluation', other: 'other (rest of the epoch)' };
  for (const p of [...PHASES, 'other' as const]) {
    console.log(`| ${label[p]} | ${which.map(([, k]) => `${cell(r.torch, k, p)} | ${cell(r.ns, k, p)}`).join(' | ')} |`);
  }
  console.log(`| **epoch** | ${which.map(([, k]) => `${s2(median(r.torch.map((s) => s.epochs[k].wall)))} / ${s2(median(r.torch.map((s) => s.epochs[k].cpu)))} | ${s2(median(r.ns.map((s) => s.epochs[k].wall)))} / ${s2(median(r.ns.map((s) => s.epochs[k].cpu)))}`).join(' | ')} |`);
  const tr = median(r.torch.map((s) => s.rssMb)), nr = median(r.ns.map((s) => s.rssMb));
  console.log(`\npeak RSS (VmHWM): PyTorch ${tr.toFixed(0)} MB (main process; its DataLoader workers not counted), nanscope ${nr.toFixed(0)} MB (one process, any worker thread included): ratio ${(nr / tr).toFixed(3)} (goal <= 1.10)`);
  console.log('PyTorch\'s CPU column counts its workers\' resizing; its "other" CPU is mostly them. nanscope\'s step includes the uint8-to-float conversion that PyTorch\'s workers do in ToTensor.');
}
