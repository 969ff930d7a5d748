// Phenomenon 3: the network unchanged, some runs go NaN and some don't; a new seed only moves
// the epoch where it appears. One config, N seeds: d2l's AlexNet and init at lr 1 (the lowered
// rate of phenomenon-2), where the exploration measured first NaNs at step 36, 120 and 242
// (epochs 1, 2 and 3) for seeds 42, 1 and 0, and none in 100 steps for seed 2. The seed sets
// the initial weights, the dropout masks and the data order; nothing else changes.
import { baseConfig } from './scale.js';
import { diverged, nanSteps } from './checks.js';
import { MID_LR, CPU_EPOCHS } from './phenomenon-2.js';
import { check, outcome, type Cell, type Experiment, type Scale } from './types.js';

function cells(scale: Scale, seeds: number[]): Cell[] {
  return seeds.map((seed) => ({ arm: `lr ${MID_LR}`, seed, config: baseConfig('alexnet', scale, { lr: MID_LR, seed, ...(scale === 'cpu' ? { epochs: CPU_EPOCHS } : {}) }) }));
}

export const phenomenon3: Experiment = {
  name: 'phenomenon-3',
  title: 'same network, different seeds: NaN or not, and in which epoch',
  phenomenon: 'Sometimes it runs fine, sometimes loss nan, with the network unchanged; changing the random seed only moves the epoch where NaN appears.',
  setup: `d2l's AlexNet and xavier init, pixels scaled, lr ${MID_LR}, N seeds, nothing else changed.`,
  reduction: `96x96, batch 64, ${CPU_EPOCHS} epochs of 6400 stratified training images (100 steps per epoch), tested on 1000. "Runs fine" means: no non-finite value within these ${CPU_EPOCHS * 100} steps.`,
  expected: `Among the seeds, the epoch of the first non-finite value differs (a new seed moves it), and at least one seed runs all ${CPU_EPOCHS} epochs without one.`,
  defaultSeeds: { cpu: 4, full: 6 },
  cells,
  plot: 'loss',
  // The statistic behind "a new seed only moves the epoch": per epoch, how many seeds went
  // non-finite in it and how many had by its end.
  summary(results) {
    const planned = (r: (typeof results)[number]) => Math.ceil(Math.min(r.config.maxSteps ?? Infinity, r.stepsPerEpoch * r.config.epochs) / Math.max(1, r.stepsPerEpoch));
    const epochs = Math.max(0, ...results.map(planned));
    const first = results.map((r) => (r.nanEpoch === null ? null : r.nanEpoch + 1));
    const rows = Array.from({ length: epochs }, (_, i) => {
      const e = i + 1;
      return [String(e), String(first.filter((f) => f === e).length), `${first.filter((f) => f !== null && f <= e).length} of ${results.length}`];
    });
    return { head: ['epoch', 'seeds first non-finite in it', 'non-finite by its end'], rows };
  },
  check(results) {
    const bad = results.filter(diverged);
    const epochs = [...new Set(bad.map((r) => (r.nanEpoch ?? 0) + 1))].sort((a, b) => a - b);
    return outcome([
      check(epochs.length > 1, `the first non-finite value lands in different epochs for different seeds (epochs ${epochs.join(', ') || 'none'}; ${nanSteps(results)})`),
      check(bad.length < results.length, `${results.length - bad.length} of ${results.length} seeds run the whole budget without a non-finite value`),
    ]);
  },
};
