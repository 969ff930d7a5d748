// Probe overhead in CPU time, for a shared machine where wall clock is noise: the same step as
// bench/run.ts (checks = loss.item + gradient summary; probes = per-layer probes + update
// ratios), the two modes interleaved (which goes first alternates), CPU time (user + sys) of
// this process per step. Run at --threads 1, where CPU time is the step's work and nothing else.
//   npm run bench:probes -- [--threads 1] [--steps 40] [--only lenet|alexnet96|alexnet224|resnet18]
//                           [--write-performance [--performance-file PATH]]
//   (OMP_WAIT_POLICY=passive as bench/run.ts sets it)
// Prints per case the median CPU ms per step of each mode and the median of the paired ratios;
// --write-performance puts them in docs/PERFORMANCE.md's probes block (all four cases only).
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { describeMachine } from '../src/store/index.js';
import { thisMachine } from '../src/train/machine.js';
import { writeBlock, PROBES_KEY } from './perf-doc.js';
import { commitOf } from './run-info.js';
import { median } from './median.js';
import * as torch from '../src/torch/index.js';
import { F, tidy } from '../src/torch/index.js';
import { SGD, type Module } from '../src/nn/index.js';
import { alexnet, lenet, buildModel, ZOO } from '../src/models/index.js';
import { applyInit } from '../src/train/init.js';
import { Probes, gradientSummary } from '../src/diagnose/index.js';

const args = process.argv.slice(2);
const flag = (k: string, d: number) => { const i = args.indexOf(`--${k}`); return i >= 0 ? Number(args[i + 1]) : d; };
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const threads = flag('threads', 1);
const write = args.includes('--write-performance');
const perfFile = args.includes('--performance-file') ? args[args.indexOf('--performance-file') + 1] : join(import.meta.dirname, '..', 'docs', 'PERFORMANCE.md');
if (write && only !== null) {
  console.error('--write-performance writes the whole probes table: run it without --only');
  process.exit(2);
}
const startedAt = new Date(), startedMs = performance.now(), loadBefore = loadavg();
torch.setNumThreads(Math.min(threads, availableParallelism()));

type Mode = 'checks' | 'probes';
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

function step(net: Module, opt: SGD, X: torch.Tensor, y: torch.Tensor, mode: Mode, probes: Probes): number {
  const t = cpuMs();
  tidy(() => {
    if (mode === 'probes') probes.begin(true);
    const loss = F.crossEntropy(net.call(X), y);
    loss.item();
    opt.zeroGrad();
    loss.backward();
    const p = mode === 'probes' ? probes.end(X) : null;
    if (mode === 'checks') gradientSummary(opt.params);
    const applied = p ? new Map<torch.Tensor, number>() : undefined;
    opt.step(applied);
    if (p) probes.updateRatios(p.values, applied!);
  });
  return cpuMs() - t;
}

const cases: [string, () => Module, number, number, number][] = [
  ['lenet', () => lenet(), 28, 256, 200], // a 25-35 ms step: many pairs for a stable median
  // 1-2 s steps: with 10-16 pairs the paired median moved by 0.05 between runs (ResNet-18 1.004,
  // then 1.050); 30-40 pairs (about five minutes for the whole table) give a steadier one.
  ['alexnet96', () => alexnet({ resize: 96 }), 96, 128, 40],
  ['alexnet224', () => alexnet({ resize: 224 }), 224, 32, 30],
  ['resnet18', () => buildModel({ model: 'resnet18', resize: 96, activation: ZOO.resnet18.recipe.activation, bn: 'none', ratio: ZOO.resnet18.recipe.ratio }), 96, 32, 40],
];
console.log(`probe cost in CPU time (user+sys), ${threads} thread(s), modes interleaved`);
const rows: string[] = [];
for (const [name, build, side, batch, n0] of cases.filter(([n]) => only === null || n === only)) {
  const steps = flag('steps', n0);
  torch.manualSeed(0);
  const net = build();
  applyInit(net, 'xavier');
  const opt = new SGD(net.parameters(), { lr: 0.01 });
  const probes = new Probes(net, [1, 1, side, side]);
  const X = torch.keep(torch.rand([batch, 1, side, side]));
  const y = torch.keep(torch.tensor(Int32Array.from({ length: batch }, (_, i) => i % 10), [batch], { dtype: 'int64' }));
  for (const m of ['checks', 'probes'] as Mode[]) step(net, opt, X, y, m, probes);
  const t: Record<Mode, number[]> = { checks: [], probes: [] };
  for (let i = 0; i < steps; i++) {
    for (const m of (i % 2 ? ['probes', 'checks'] : ['checks', 'probes']) as Mode[]) t[m].push(step(net, opt, X, y, m, probes));
  }
  const paired = t.probes.map((p, i) => p / t.checks[i]);
  const off = median(t.checks).toFixed(1), on = median(t.probes).toFixed(1), ofMedians = (median(t.probes) / median(t.checks)).toFixed(3);
  const pm = median(paired).toFixed(3), spread = `${Math.min(...paired).toFixed(2)}-${Math.max(...paired).toFixed(2)}`;
  rows.push(`| ${name} b${batch} | ${probes.layers.length} | ${off} | ${on} | ${ofMedians} | **${pm}** [${spread}] | ${steps} |`);
  console.log(`${name.padEnd(11)} b${batch}  layers ${probes.layers.length}  off ${off} ms  on ${on} ms  ratio of medians ${ofMedians}  paired median ${pm} [${spread}]  (${steps} pairs)`);
  probes.remove(); opt.dispose(); net.dispose(); X.dispose(); y.dispose();
}

if (write) {
  const cmd = `npm run bench:probes${args.length ? ` -- ${args.join(' ')}` : ''}`;
  const body = ['### Probe overhead: every layer watched on every step, against the same step without (issue 12: goal <= 1.05)', '',
    `Command: \`${cmd}\`  `,
    `Date: ${startedAt.toISOString().replace('T', ' ').slice(0, 16)} UTC, ${((performance.now() - startedMs) / 60000).toFixed(1)} min; commit ${commitOf(join(import.meta.dirname, '..'))}.  `,
    `Machine: ${describeMachine(thisMachine())}.  `,
    `Load average before the run: ${loadBefore[0].toFixed(2)} (1 min), ${loadBefore[1].toFixed(2)} (5 min).`, '',
    'CPU time (user + sys) of the process per step, the two modes interleaved (which goes first alternates): "off" = loss.item() and a gradient summary, as a run without probes; "on" = forward and gradient hooks on every layer, parameter statistics and update ratios. At 1 thread CPU time is the step\'s work, which wall time on this shared VM is not.', '',
    '| case | layers | off: ms per step | on: ms per step | ratio of medians | paired ratio: median [min-max] | pairs |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
  writeBlock(perfFile, PROBES_KEY, body);
  console.log(`wrote the probes block of ${perfFile}`);
}
