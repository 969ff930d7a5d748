// docs/PERFORMANCE.md's generated blocks from a fixed bench result (no timing is measured or
// asserted here): what the blocks say, that a rerun replaces its blocks in place and keeps the
// hand-written text, and that an epochs-only run leaves the steps block alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EPOCHS_KEY, STEPS_KEY, PROBES_KEY, epochsBlock, shortfall, updatePerformanceDoc, writePerformance, writeBlock } from '../bench/perf-doc.js';
import { beginMark, endMark, readGenerated } from '../src/experiments/blocks.js';
import type { Epoch, PerfRun, Side } from '../bench/perf-types.js';
import type { Machine } from '../src/store/index.js';

const machine: Machine = { cpu: 'AMD EPYC', cores: 2, cpuIsa: 'AVX-512', atenIsa: 'AVX2', threads: 2, torch: '1.13.0', onednn: '2.6.0',
  blas: 'open', gpu: null, memGiB: 8, os: 'linux 6.1', node: '20.11.0' };

/** An epoch with the given phase wall times (CPU: twice the wall), and `extra` seconds outside its phases. */
function epoch(phases: Record<string, number>, extra = 0.5): Epoch {
  const wall = Object.values(phases).reduce((a, b) => a + b, 0) + extra;
  return { wall, cpu: 2 * wall, phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, { wall: v, cpu: 2 * v }])) };
}
const torchSide = (step: number): Side => ({ rssMb: 700, epochs: [epoch({ data: 1.5, step, eval: 2 }), epoch({ data: 1, step, eval: 2 })] });
const nsSide = (step: number): Side => ({ rssMb: 770, epochs: [1, 2].map((k) => epoch({ data: 0.1, step, probes: 0.4, store: 0.05, checkpoint: 0.3 * k, eval: 1.2 }, 0.05)) });

function sample(): PerfRun {
  return {
    info: { command: 'npm run bench -- --write-performance', date: new Date('2026-12-02T18:40:00Z'), seconds: 630, commit: 'abc1234',
      machine, loadBefore: [0.03, 0.2, 0.9], defaults: { torch: 1, nanscope: 2 } },
    steps: [{ name: 'alexnet 96x96 b128', batch: 128, torch: [0.5, 0.52, 0.48], ns: { checks: [0.45, 0.44, 0.46], probes: [0.46, 0.47, 0.45] } }],
    data: { n: 3000, side: 224, torchS: 1.75, nsS: 0.7 },
    epochs: [
      // 96: PyTorch step 15 s vs nanscope 12 s: the step alone allows more than 1.25, the rest decides.
      { case: { side: 96, batch: 128, n: 4096, nTest: 1024 }, result: { torch: [torchSide(15), torchSide(15)], ns: [nsSide(12), nsSide(12)], epochs: 2, workers: 4, threads: 2, nanscopeFrom: 'built' as const } },
      // 224: the step alone caps the ratio below 1.25.
      { case: { side: 224, batch: 128, n: 1536, nTest: 512 }, result: { torch: [torchSide(36)], ns: [nsSide(33)], epochs: 2, workers: 4, threads: 2, nanscopeFrom: 'built' as const } },
    ],
  };
}

test('the epochs block: command, commit, machine, both sides, ratios, phases, RSS and why the goal falls short', () => {
  const run = sample();
  const md = epochsBlock(run);
  assert.match(md, /Command: `npm run bench -- --write-performance`/);
  assert.match(md, /commit abc1234/);
  assert.match(md, /2 x AMD EPYC \(AVX-512 CPU, ATen kernels AVX2\), 2 threads/);
  assert.match(md, /Load average before the run: 0\.03 \(1 min\).*: quiet/);
  // 96 first epoch: PyTorch 1.5+15+2+0.5 = 19 s, nanscope 0.1+12+0.4+0.05+0.3+1.2+0.05 = 14.1 s.
  assert.match(md, /\| AlexNet 96x96 b128, 4096 train \/ 1024 test images \| first \| 19\.00 \| 14\.10 \| \*\*1\.348\*\* \[1\.35-1\.35\] \| 1\.348 \| met \|/);
  assert.match(md, /\| AlexNet 224x224 b128, 1536 train \/ 512 test images \| first \| 40\.00 \| 35\.10 \| \*\*1\.140\*\*/);
  assert.match(md, /\| AlexNet 96x96 b128, 4096 train \/ 1024 test images \| 700 \| 770 \| 1\.100 \|/);
  assert.match(md, /\| probes \| - \| 0\.40 \/ 0\.80 \|/, 'PyTorch has no probes phase');
  assert.match(md, /\| step \(forward, backward, update\) \| 15\.00 \/ 30\.00 \| 12\.00 \/ 24\.00 \|/);
  assert.match(md, /DataLoader with 4 workers/);
  assert.match(md, /compiled as the package runs/);
  // 224 falls short and its step caps it: 40 / (33 + 0.4) = 1.198 < 1.25.
  assert.match(md, /- first epoch: 1\.140\. For 1\.25 nanscope's epoch must take at most 32\.00 s .* the step alone caps the ratio at 1\.198/);
  assert.doesNotMatch(epochsBlock({ ...run, epochs: [run.epochs[0]] }), /falls short/, '96 meets the goal in both epochs');
});

test('shortfall names the other phases when the step alone would allow the goal', () => {
  const r = { torch: [torchSide(15)], ns: [nsSide(12)], epochs: 2, workers: 4, threads: 2, nanscopeFrom: 'built' as const };
  r.ns[0].epochs[1] = epoch({ data: 0.1, step: 12, probes: 0.4, store: 0.05, checkpoint: 3, eval: 1.2 }, 0.05);
  const s = shortfall(r, 1, 'later');
  assert.ok(s);
  assert.match(s, /the step alone would allow 1\.492; the other phases take the rest: checkpoint 3\.00 s, evaluation 1\.20 s \(PyTorch 2\.00 s\)/);
  assert.equal(shortfall(r, 0, 'first'), null);
});

test('a rerun replaces its blocks in place, keeps the hand-written text, and an epochs-only run leaves the steps block', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nanscope-perfdoc-'));
  try {
    const path = join(dir, 'PERFORMANCE.md');
    const doc = ['# Performance', '', 'Hand-written intro.', '', beginMark(EPOCHS_KEY), 'old epochs', endMark(EPOCHS_KEY), '',
      'Hand-written reading of the epochs.', '', beginMark(STEPS_KEY), 'old steps', endMark(STEPS_KEY), '', 'Hand-written tail.', ''].join('\n');
    writeFileSync(path, doc);
    writePerformance(path, sample());
    const md = readFileSync(path, 'utf8');
    for (const hand of ['Hand-written intro.', 'Hand-written reading of the epochs.', 'Hand-written tail.']) assert.ok(md.includes(hand), hand);
    assert.ok(!md.includes('old epochs') && !md.includes('old steps'));
    assert.equal(md.split(beginMark(EPOCHS_KEY)).length, 2, 'one epochs block');
    assert.ok(md.indexOf('Hand-written reading') > md.indexOf(endMark(EPOCHS_KEY)) && md.indexOf('Hand-written reading') < md.indexOf(beginMark(STEPS_KEY)), 'blocks stay where they were');
    const steps = readGenerated(md, STEPS_KEY)!;
    assert.match(steps, /\| alexnet 96x96 b128, 3 pairs \| PyTorch \| 256\.0 \[246\.2-266\.7\] \| \| \|/);
    assert.match(steps, /\| \| nanscope checks \| 284\.4 .* \| 1\.111 \| \*\*1\.111\*\* \[1\.04-1\.18\] \|/);
    assert.match(steps, /\| alexnet 96x96 b128 \| 1\.022 \[0\.98-1\.07\] \|/, 'probes on / off: the paired median and its range');
    assert.match(steps, /\| d2l's PIL Resize \+ ToTensor vs nanscope's resizer \| 1714\.3 \| 4285\.7 \| 2\.50 \|/);

    // --only epoch: no step rows, the steps block stays as the full run wrote it.
    const epochsOnly = { ...sample(), steps: [], data: null, info: { ...sample().info, command: 'npm run bench -- --only epoch --write-performance' } };
    const again = updatePerformanceDoc(md, epochsOnly);
    assert.equal(readGenerated(again, STEPS_KEY), steps);
    assert.match(readGenerated(again, EPOCHS_KEY)!, /--only epoch --write-performance/);

    // A document without the blocks gets them appended; the text before stays.
    const fresh = updatePerformanceDoc('# Performance\n\nIntro.\n', sample());
    assert.ok(fresh.startsWith('# Performance\n\nIntro.\n\n'));
    assert.ok(readGenerated(fresh, EPOCHS_KEY) && readGenerated(fresh, STEPS_KEY));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the probes block (bench:probes --write-performance) is written in place, or added at the end, and leaves the other blocks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nanscope-perfdoc-'));
  try {
    const path = join(dir, 'PERFORMANCE.md');
    writeFileSync(path, ['# Performance', '', beginMark(STEPS_KEY), 'steps', endMark(STEPS_KEY), '', 'Hand text.', ''].join('\n'));
    writeBlock(path, PROBES_KEY, 'probes, first run');
    let md = readFileSync(path, 'utf8');
    assert.equal(readGenerated(md, PROBES_KEY), 'probes, first run');
    assert.ok(md.indexOf('Hand text.') < md.indexOf(beginMark(PROBES_KEY)), 'a missing block goes at the end');
    writeBlock(path, PROBES_KEY, 'probes, second run');
    md = readFileSync(path, 'utf8');
    assert.equal(md.split(beginMark(PROBES_KEY)).length, 2, 'replaced, not added again');
    assert.equal(readGenerated(md, PROBES_KEY), 'probes, second run');
    assert.equal(readGenerated(md, STEPS_KEY), 'steps');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a loaded machine, and a trainer run from source, are said to be so', () => {
  const run = sample();
  run.info.loadBefore = [3.8, 2.0, 0.9];
  run.epochs[0].result.nanscopeFrom = 'source';
  const md = epochsBlock(run);
  assert.match(md, /3\.80 \(1 min\).*\*\*not a quiet machine\*\*/);
  assert.match(md, /\*\*from the TypeScript source through tsx\*\*/);
});
