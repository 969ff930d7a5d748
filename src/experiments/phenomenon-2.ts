// Phenomenon 2: after lowering the learning rate, NaN appears mid-training instead.
import { baseConfig } from './scale.js';
import { byArm, diverged, nanSteps } from './checks.js';
import { check, outcome, type Cell, type Experiment, type Scale } from './types.js';

export const BASE = { scalePixels: false } as const;
export const HIGH_LR = 0.1;
export const LOW_LRS = [0.03] as const;

function cells(scale: Scale, seeds: number[]): Cell[] {
  return [HIGH_LR, ...LOW_LRS].flatMap((lr) => seeds.map((seed) => ({ arm: `lr ${lr}`, seed, config: baseConfig('alexnet', scale, { ...BASE, lr, seed, ...(scale === 'cpu' ? { epochs: 3 } : {}) }) })));
}

export const phenomenon2: Experiment = {
  name: 'phenomenon-2',
  title: 'a lower lr moves the NaN to mid-training',
  phenomenon: 'After lowering the learning rate, loss becomes nan halfway through training instead of at once.',
  setup: 'TBD',
  reduction: 'TBD',
  expected: 'TBD',
  defaultSeeds: { cpu: 3, full: 3 },
  cells,
  plot: 'loss',
  check(results) {
    const hi = byArm(results, `lr ${HIGH_LR}`);
    const lo = LOW_LRS.flatMap((lr) => byArm(results, `lr ${lr}`));
    return outcome([
      check(hi.every(diverged), `lr ${HIGH_LR}: ${nanSteps(hi)}`),
      check(lo.some(diverged), `lower lr: ${nanSteps(lo)}`),
    ]);
  },
};
