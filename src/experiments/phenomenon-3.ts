// Phenomenon 3: same network, some seeds go NaN and some don't; a new seed only moves the epoch.
import { baseConfig } from './scale.js';
import { diverged, nanSteps } from './checks.js';
import { check, outcome, type Cell, type Experiment, type Scale } from './types.js';

export const CONFIG = { lr: 1 } as const;

function cells(scale: Scale, seeds: number[]): Cell[] {
  return seeds.map((seed) => ({ arm: `lr ${CONFIG.lr}`, seed, config: baseConfig('alexnet', scale, { ...CONFIG, seed }) }));
}

export const phenomenon3: Experiment = {
  name: 'phenomenon-3',
  title: 'unchanged network, the seed decides whether and when NaN appears',
  phenomenon: 'Sometimes it runs fine, sometimes loss nan, with the network unchanged; changing the random seed only moves the epoch where it appears.',
  setup: 'TBD',
  reduction: 'TBD',
  expected: 'TBD',
  defaultSeeds: { cpu: 6, full: 6 },
  cells,
  plot: 'loss',
  check(results) {
    return outcome([
      check(results.some(diverged) && results.some((r) => !diverged(r)), `some seeds diverge, some do not: ${nanSteps(results)}`),
    ]);
  },
};
