// Early-warning measurement: lead time (steps from the first warning to the first non-finite
// value) on phenomenon-1/2 runs, and false alarms on healthy runs (d2l's LeNet recipe, BN
// runs). Real runs at the experiments' cpu scale, one intra-op thread, printed as a table.
//   node --import tsx bench/early-warning.ts [--only p1|p2|healthy] [--seeds N]
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../src/store/index.js';
import { loadFashionMnist } from '../src/data/index.js';
import { Trainer } from '../src/train/trainer.js';
import { baseConfig } from '../src/experiments/scale.js';
import { trainFlags } from '../src/experiments/scale.js';
import { validate, defaultConfig, type TrainConfig } from '../src/train/config.js';
import { thisMachine } from '../src/train/machine.js';
import { describeMachine } from '../src/store/index.js';

interface Case { group: 'p1' | 'p2' | 'healthy'; name: string; config: TrainConfig }

function cases(seeds: number[]): Case[] {
  const a = (patch: Partial<TrainConfig>) => baseConfig('alexnet', 'cpu', { evaluate: false, histEvery: 0, ...patch });
  const out: Case[] = [];
  for (const seed of seeds) {
    out.push({ group: 'p1', name: `raw pixels lr 0.1, seed ${seed}`, config: a({ scalePixels: false, lr: 0.1, epochs: 1, seed }) });
    out.push({ group: 'p1', name: `init normal:0.1, seed ${seed}`, config: a({ init: 'normal:0.1', lr: 0.01, epochs: 1, seed }) });
    out.push({ group: 'p1', name: `lr 10, seed ${seed}`, config: a({ lr: 10, epochs: 1, seed }) });
    out.push({ group: 'p1', name: `raw pixels lr 0.03, seed ${seed}`, config: a({ scalePixels: false, lr: 0.03, epochs: 1, seed }) });
    out.push({ group: 'p2', name: `lr 1, seed ${seed}`, config: a({ lr: 1, epochs: 3, seed }) });
  }
  // Healthy: d2l's full LeNet recipe (sigmoid, lr 0.9, batch 256, 10 epochs, all data) once,
  // and BN AlexNets at the rates that blow up without BN.
  out.push({ group: 'healthy', name: 'd2l LeNet recipe (10 epochs, all data)', config: validate({ ...defaultConfig('lenet'), threads: 1, evaluate: false, histEvery: 0, checkpointEvery: 0 }) });
  for (const seed of seeds.slice(0, 2)) {
    out.push({ group: 'healthy', name: `AlexNet bn=builtin lr 1, seed ${seed}`, config: a({ bn: 'builtin', lr: 1, epochs: 1, seed }) });
    out.push({ group: 'healthy', name: `AlexNet bn=scratch raw pixels lr 0.1, seed ${seed}`, config: a({ bn: 'scratch', scalePixels: false, lr: 0.1, epochs: 1, seed }) });
    out.push({ group: 'healthy', name: `AlexNet d2l lr 0.01, seed ${seed}`, config: a({ lr: 0.01, epochs: 1, seed }) });
  }
  return out;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : null;
  const nSeeds = argv.includes('--seeds') ? Number(argv[argv.indexOf('--seeds') + 1]) : 3;
  const seeds = Array.from({ length: nSeeds }, (_, i) => i);
  const store = openStore(mkdtempSync(join(tmpdir(), 'nanscope-warn-')));
  const rows: string[] = [];
  const leads: number[] = [];
  let alarms = 0, healthy = 0, missed = 0;
  for (const c of cases(seeds).filter((x) => !only || x.group === only)) {
    const data = await loadFashionMnist({ limitTrain: c.config.limitTrain ?? undefined, limitTest: 100 });
    const run = store.createRun({ name: c.name, config: c.config });
    const t = new Trainer(c.config, { store, runId: run.id, data, silent: true });
    let r;
    try { r = await t.run(); } finally { t.dispose(); }
    const w = store.getEvents(run.id, 'warning')[0]?.payload as { step: number; en: string } | undefined;
    const nan = r.report?.step ?? null;
    const lead = w && nan !== null ? nan - w.step : null;
    if (c.group === 'healthy') { healthy++; if (w) alarms++; }
    else if (lead !== null) leads.push(lead);
    else if (nan !== null) missed++;
    rows.push(`| ${c.group} | ${c.name} | ${r.steps} | ${nan ?? '-'} | ${w?.step ?? '-'} | ${lead ?? '-'} | ${r.verdict.run} | ${w ? w.en.replace(/\|/g, '/') : ''} |`);
    process.stdout.write(`${rows[rows.length - 1]}\n  nanscope train ${trainFlags(c.config).join(' ')}\n`);
  }
  leads.sort((a, b) => a - b);
  const med = leads.length ? (leads.length % 2 ? leads[leads.length >> 1] : (leads[leads.length / 2 - 1] + leads[leads.length / 2]) / 2) : NaN;
  process.stdout.write(`\n${describeMachine(thisMachine())}\n| group | run | steps | first non-finite step | first warning step | lead (steps) | verdict | warning |\n|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n\n`);
  process.stdout.write(`lead time over ${leads.length} diverged runs with a warning: median ${med}, range ${leads[0] ?? '-'}..${leads[leads.length - 1] ?? '-'}; diverged without a warning: ${missed}; false alarms: ${alarms} of ${healthy} healthy runs\n`);
  store.close();
}

void main();
