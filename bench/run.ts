// Side-by-side benchmark: nanscope vs PyTorch (Debian python3-torch 1.13: the same libtorch,
// threads and BLAS), alternating A/B after warm-up, printing medians, min-max and the ratio
// nanscope/PyTorch in images per second (higher is better for nanscope).
//   npm run bench [-- --quick] [-- --threads N] [-- --steps N] [-- --only resnet18|epoch] [-- --epoch-reps N]
//                 [-- --torch-workers N] [-- --from-source] [-- --write-performance [--performance-file PATH]]
// --write-performance regenerates docs/PERFORMANCE.md's generated blocks (steps, whole epochs)
// from this run, with its command, date, commit and machine; the full run takes about 10 minutes
// on an idle 2-core machine. The epoch case runs nanscope's trainer compiled (bench/built.ts: about
// 15 s to build first), as the package runs; --from-source (and --quick) run it through tsx instead.
// Steps per case scale with the step's length (LeNet's 30 ms step gets many more than AlexNet
// 224's 7 s one); which side runs first alternates each pair, and besides the ratio of medians
// each case prints the median of the per-pair ratios, which cancels the machine's slow drift
// (on this 2-core VM the same step varies by up to 30% over a minute).
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import * as torch from '../src/torch/index.js';
import { F, tidy } from '../src/torch/index.js';
import { SGD, type Module } from '../src/nn/index.js';
import { alexnet, lenet, buildModel, ZOO, type ModelName } from '../src/models/index.js';
import { applyInit } from '../src/train/init.js';
import { batchTensors } from '../src/train/batch.js';
import { Probes, gradientSummary } from '../src/diagnose/index.js';
import { loadFashionMnist, resizerFor } from '../src/data/index.js';
import { trainingFlopsPerImage, peakFlops } from './flops.js';
import { TorchWorker } from './worker.js';
import { median } from './median.js';
import { epochCase, EPOCH_CASES, D2L_WORKERS } from './epoch.js';
import { epochCaseMarkdown, epochSummary, writePerformance } from './perf-doc.js';
import { runInfo } from './run-info.js';
import { buildForBench } from './built.js';
import type { DataRow, Mode, PerfRun, StepRow } from './perf-types.js';

// OpenMP reads its wait policy when libtorch loads, i.e. before this line runs: a bench started
// without OMP_WAIT_POLICY=passive (as bin/nanscope.js and the PyTorch worker below set it) re-runs
// itself with it. Spinning OpenMP workers on a busy 2-core machine made nanscope's ResNet-18 step
// 5-7x slower than PyTorch's passive one (measured under load 11: 0.13 vs 1.0 paired ratio).
if (process.env.OMP_WAIT_POLICY === undefined) {
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, OMP_WAIT_POLICY: 'passive' } });
  process.exit(r.status ?? 1);
}

const startedMs = performance.now(), startedAt = new Date();
const loadBefore = loadavg(); // before this run adds its own load: how quiet the machine was
const args = process.argv.slice(2);
const flag = (k: string, d: number) => { const i = args.indexOf(`--${k}`); return i >= 0 ? Number(args[i + 1]) : d; };
const write = args.includes('--write-performance');
const perfFile = args.includes('--performance-file') ? args[args.indexOf('--performance-file') + 1] : join(import.meta.dirname, '..', 'docs', 'PERFORMANCE.md');
const quick = args.includes('--quick');
/** --only MODEL: just that model's step cases (e.g. resnet18), no data or epoch sections; --only epoch: just the epochs. */
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
if (write && only !== null && only !== 'epoch') {
  // One model's rows would replace the whole steps table: the document keeps whole runs only.
  console.error(`--write-performance writes the whole steps table: run it without --only, or with --only epoch (rewrites the epochs block only), not --only ${only}`);
  process.exit(2);
}
/** PyTorch's DataLoader workers in the epoch case: d2l's own 4 unless told otherwise. */
const torchWorkers = flag('torch-workers', D2L_WORKERS);
const epochsRun = only === null || only === 'epoch';
// Built first, so a compile error stops the bench before it has spent minutes measuring.
const built = epochsRun && !quick && !args.includes('--from-source') ? buildForBench(join(import.meta.dirname, '..')) : null;
const threads = flag('threads', availableParallelism());
const stepsFlag = flag('steps', 0);
/** Measured A/B pairs for a case whose step takes about `sec` seconds. */
const stepsFor = (sec: number) => stepsFlag || Math.max(quick ? 3 : 5, Math.min(quick ? 20 : 40, Math.round((quick ? 4 : 10) / sec)));
torch.setNumThreads(threads);

const f1 = (x: number) => x.toFixed(1);

/** One nanscope training step as the trainer runs it: engine only, + NaN checks, + per-layer probes. */
function nsStep(net: Module, opt: SGD, X: torch.Tensor, y: torch.Tensor, mode: Mode, probes: Probes): number {
  const t = performance.now();
  tidy(() => {
    if (mode === 'probes') probes.begin(true);
    const loss = F.crossEntropy(net.call(X), y);
    if (mode !== 'engine') loss.item();
    opt.zeroGrad();
    loss.backward();
    const p = mode === 'probes' ? probes.end(X) : null;
    if (mode === 'checks') gradientSummary(opt.params);
    const applied = p ? new Map<torch.Tensor, number>() : undefined;
    opt.step(applied);
    if (p) probes.updateRatios(p.values, applied!);
  });
  return (performance.now() - t) / 1000;
}

const rows: StepRow[] = [];

/** A net as the trainer builds it: AlexNet/LeNet, or a zoo net with its d2l recipe's options. */
function benchNet(model: ModelName, side: number): Module {
  if (model === 'alexnet') return alexnet({ resize: side });
  if (model === 'lenet') return lenet();
  const r = ZOO[model].recipe;
  return buildModel({ model, resize: side, activation: r.activation, bn: 'none', ratio: r.ratio });
}

async function stepCase(w: TorchWorker, model: ModelName, side: number, batch: number, modes: Mode[], steps: number): Promise<StepRow> {
  torch.manualSeed(0);
  const net = benchNet(model, side);
  applyInit(net, 'xavier');
  const opt = new SGD(net.parameters(), { lr: 0.01 });
  const probes = new Probes(net, [1, 1, side, side]);
  const X = torch.keep(torch.rand([batch, 1, side, side]));
  const y = torch.keep(torch.tensor(Int32Array.from({ length: batch }, (_, i) => i % 10), [batch], { dtype: 'int64' }));
  await w.call({ op: 'setup', model, side, batch, threads });
  // warm-up both
  await w.call({ op: 'step', n: 1 });
  for (const m of modes) nsStep(net, opt, X, y, m, probes);
  const ns: Partial<Record<Mode, number[]>> = Object.fromEntries(modes.map((m) => [m, []]));
  const row: StepRow = { name: `${model} ${side}x${side} b${batch}`, torch: [], ns, batch };
  for (let i = 0; i < steps; i++) {
    const torchStep = async () => { row.torch.push(...(await w.call<{ times: number[] }>({ op: 'step', n: 1 })).times); };
    if (i % 2 === 0) await torchStep();
    for (const m of i % 2 ? [...modes].reverse() : modes) ns[m]!.push(nsStep(net, opt, X, y, m, probes));
    if (i % 2 === 1) await torchStep();
  }
  probes.remove(); opt.dispose(); net.dispose(); X.dispose(); y.dispose();
  return row;
}

function printRow(r: StepRow, flopsPerImg?: number): void {
  const t = median(r.torch);
  const ips = (s: number) => r.batch / s;
  const mm = (xs: number[]) => `${f1(r.batch / Math.max(...xs))}-${f1(r.batch / Math.min(...xs))}`;
  console.log(`\n${r.name}  (img/s, median of ${r.torch.length} steps, min-max)`);
  console.log(`  PyTorch 1.13            ${f1(ips(t)).padStart(8)}   [${mm(r.torch)}]`);
  for (const [m, xs] of Object.entries(r.ns)) {
    if (!xs) continue;
    const s = median(xs);
    const gf = flopsPerImg ? `  ${((ips(s) * flopsPerImg) / 1e9).toFixed(1)} GFLOP/s` : '';
    const paired = xs.map((x, i) => r.torch[i] / x);
    console.log(`  nanscope ${m.padEnd(14)} ${f1(ips(s)).padStart(8)}   [${mm(xs)}]   ratio ${(t / s).toFixed(3)}  paired ${median(paired).toFixed(3)} [${Math.min(...paired).toFixed(2)}-${Math.max(...paired).toFixed(2)}]${gf}`);
  }
  if (r.ns.probes && r.ns.checks) console.log(`  probes on / off step time: ${(median(r.ns.probes) / median(r.ns.checks)).toFixed(3)}  (goal <= 1.05)`);
}

const w = new TorchWorker();
const peak = peakFlops(threads);
console.log(`nanscope bench: ${threads} threads, A/B alternating after warm-up (the side that goes first alternates); ratio = nanscope img/s / PyTorch img/s`);
console.log(`libtorch ${torch.version()} (both sides); peak ${(peak.flops / 1e9).toFixed(0)} GFLOP/s = ${peak.how}`);
const ptDefault = (await w.call<{ threads: number }>({ op: 'default_threads' })).threads;
console.log(`defaults without a thread setting: PyTorch ${ptDefault} thread(s) (torch.get_num_threads()), nanscope train ${availableParallelism()} (all cores); below, both run ${threads}`);

// [model, side, batch, modes, approximate seconds per step on this 2-core machine]
const cases: [ModelName, number, number, Mode[], number][] = [
  ['lenet', 28, 256, ['engine', 'checks', 'probes'], 0.035],
  ['alexnet', 96, 128, ['engine', 'checks', 'probes'], 1],
  ['alexnet', 224, 32, ['checks', 'probes'], 1.8],
  // d2l's ResNet-18 at its Fashion-MNIST size (96); batch 32, not d2l's 256 (a 256 step takes
  // ~15 s here): residual adds, BN and global pooling next to AlexNet's plain stack.
  ['resnet18', 96, 32, ['engine', 'checks', 'probes'], 2.5],
];
if (!quick) cases.push(['alexnet', 224, 128, ['checks', 'probes'], 7]);
for (const [m, side, b, modes, sec] of cases.filter(([m]) => only === null || m === only)) {
  const r = await stepCase(w, m, side, b, modes, stepsFor(sec));
  rows.push(r);
  const fnet = m === 'lenet' ? null : benchNet(m, side);
  const fl = fnet ? trainingFlopsPerImage(fnet, side) : undefined;
  fnet?.dispose();
  printRow(r, fl);
  if (fl) console.log(`  PyTorch ${((r.batch / median(r.torch)) * fl / 1e9).toFixed(1)} GFLOP/s; ${(fl / 1e9).toFixed(2)} GFLOP per image per step; nanscope at ${(100 * (r.batch / median(r.ns.checks!)) * fl / peak.flops).toFixed(0)}% of peak`);
}

if (only !== null && only !== 'epoch') { w.close(); process.exit(0); }

let dataRow: DataRow | null = null;
if (only === null) {
  // Data pipeline alone: decode once, then resize N images to 224 and scale (d2l: PIL Resize + ToTensor per image, every epoch).
  const n = quick ? 1000 : 3000;
  const data = await loadFashionMnist({ limitTrain: n, limitTest: 10 });
  const trainImages = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz';
  const tp = (await w.call<{ seconds: number }>({ op: 'data', n, side: 224, images: trainImages })).seconds;
  const t0 = performance.now();
  const rz = resizerFor(28, 224);
  const out = new Uint8Array(n * 224 * 224);
  for (let i = 0; i < n; i++) rz.resizeInto(data.train.images, i * 784, out, i * 224 * 224);
  tidy(() => batchTensors({ pixels: out, labels: new Int32Array(n), size: n }, 224, true, 'cpu'));
  const tn = (performance.now() - t0) / 1000;
  dataRow = { n, side: 224, torchS: tp, nsS: tn };
  console.log(`\ndata pipeline, ${n} images resized to 224 and scaled (img/s): PyTorch ${f1(n / tp)}, nanscope ${f1(n / tn)}, ratio ${(tp / tn).toFixed(2)}`);
  console.log('  (nanscope resizes each image once per process and caches it; PyTorch\'s DataLoader repeats this every epoch)');
}
w.close();

// Whole epochs as a user waits for them, in fresh processes on both sides: d2l's train_ch6 with
// its DataLoaders against `nanscope train` (probes, store, checkpoint and evaluation as by
// default). The first epoch (PyTorch starts its loader workers, nanscope resizes into its cache)
// and a later one are reported separately, each with where its time went.
const images = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz';
const files = { images, labels: images.replace('images-idx3', 'labels-idx1'), test_images: images.replace('train-', 't10k-'), test_labels: images.replace('train-images-idx3', 't10k-labels-idx1') };
const reps = flag('epoch-reps', quick ? 1 : 2);
const epochs: PerfRun['epochs'] = [];
for (const ec of quick ? EPOCH_CASES.quick : EPOCH_CASES.full) {
  const result = await epochCase(ec, { reps, threads, workers: torchWorkers, files, built });
  epochs.push({ case: ec, result });
  console.log(`\n${epochCaseMarkdown(ec, result)}`);
}
const run: PerfRun = {
  info: runInfo({ args, startedMs, startedAt, loadBefore, defaults: { torch: ptDefault, nanscope: availableParallelism() }, dir: join(import.meta.dirname, '..') }),
  steps: rows, data: dataRow, epochs,
};
console.log(`\n${epochSummary(run)}`);
console.log(`\nbench took ${(run.info.seconds / 60).toFixed(1)} min`);
if (write) {
  writePerformance(perfFile, run);
  console.log(`wrote the generated blocks of ${perfFile}`);
}
