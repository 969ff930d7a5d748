// Phenomenon 3: the network unchanged, some runs go NaN and some don't; a new seed only moves
// the epoch where it appears. One config, N seeds: d2l's AlexNet and init at lr 1 (the lowered
// rate of phenomenon-2, with its cpu-scale epochs of 25 steps). The seed sets the initial
// weights, the dropout masks and the data order; nothing else changes. The same spread shows
// across machines: the step a seed goes NaN at differs between CPUs (phenomenon-2's header), so
// the outcome is the distribution over seeds, not any seed's step.
import { baseConfig } from './scale.js';
import { diverged, nanStats, nanEpoch1, fmtMedian, fmtRange, nanStatsTable } from './checks.js';
import { MID_LR, MID_CPU } from './phenomenon-2.js';
import { check, outcome, type Cell, type CellResult, type Experiment, type Scale } from './types.js';

function cells(scale: Scale, seeds: number[]): Cell[] {
  return seeds.map((seed) => ({ arm: `lr ${MID_LR}`, seed, config: baseConfig('alexnet', scale, { lr: MID_LR, seed, ...(scale === 'cpu' ? MID_CPU : {}) }) }));
}

const planned = (r: CellResult) => Math.ceil(Math.min(r.config.maxSteps ?? Infinity, r.stepsPerEpoch * r.config.epochs) / Math.max(1, r.stepsPerEpoch));

export const phenomenon3: Experiment = {
  name: 'phenomenon-3',
  title: 'same network, different seeds: NaN or not, and in which epoch',
  phenomenon: 'Sometimes it runs fine, sometimes loss nan, with the network unchanged; changing the random seed only moves the epoch where NaN appears.',
  setup: `d2l's AlexNet and xavier init, pixels scaled, lr ${MID_LR}, N seeds, nothing else changed. Per epoch: how many seeds went non-finite in it and by its end; over the seeds: the fraction that diverged, the median and range of the first non-finite epoch.`,
  reduction: `96x96, batch 64, ${MID_CPU.epochs} epochs of ${MID_CPU.limitTrain} stratified training images (25 steps per epoch, as phenomenon-2), tested on ${MID_CPU.limitTest}. "Runs fine" means: no non-finite value within these ${(MID_CPU.epochs ?? 0) * 25} steps.`,
  expected: 'Over the seeds, not one seed\'s step: some seeds diverge and some run the whole budget finite (the fraction diverged is strictly between 0 and 1), and the diverging seeds\' first non-finite epochs are spread over more than one epoch (a new seed moves it).',
  defaultSeeds: { cpu: 8, full: 6 },
  cells,
  plot: 'loss',
  // The statistic behind "a new seed only moves the epoch": per epoch, how many seeds went
  // non-finite in it and how many had by its end; then the same over seeds in one row.
  summary(results) {
    const epochs = Math.max(0, ...results.map(planned));
    const first = results.map(nanEpoch1);
    const rows = Array.from({ length: epochs }, (_, i) => {
      const e = i + 1;
      return [String(e), String(first.filter((f) => f === e).length), `${first.filter((f) => f <= e).length} of ${results.length}`];
    });
    return [{ head: ['epoch', 'seeds first non-finite in it', 'non-finite by its end'], rows }, nanStatsTable([[`lr ${MID_LR}`, results]], 'lr')];
  },
  check(results) {
    const s = nanStats(results);
    const bad = results.filter(diverged);
    return outcome([
      check(s.diverged > 0 && s.diverged < s.seeds, `${s.diverged} of ${s.seeds} seeds diverge and ${s.seeds - s.diverged} run the whole budget finite`),
      check(s.epochs !== null && s.epochs[1] > s.epochs[0], `the first non-finite epoch differs between seeds: epochs ${fmtRange(s.epochs)} (median over all seeds ${fmtMedian(s.medianEpoch)}; ${[...new Set(bad.map(nanEpoch1))].length} distinct epochs), steps ${fmtRange(s.steps)}`),
    ]);
  },
};
