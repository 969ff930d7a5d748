// Phenomenon 1: "loss nan, train acc 0.100, test acc 0.100" from the very first epoch.
// Two deviations from d2l's recipe, each measured to blow up within the first few steps on
// real data for every seed tried: raw 0-255 pixels (a hand-written IDX loader that skips
// d2l's divide-by-255) at lr 0.1, and weights drawn from N(0, 0.1) instead of d2l's xavier.
import { baseConfig } from './scale.js';
import { byArm, inFirstEpoch, hasReport, nanSteps } from './checks.js';
import { check, outcome, type Cell, type Experiment, type Scale } from './types.js';

export const ARMS = {
  'no-scale, lr 0.1': { scalePixels: false, lr: 0.1 },
  'init normal:0.1, lr 0.01': { init: 'normal:0.1', lr: 0.01 },
} as const;

function cells(scale: Scale, seeds: number[]): Cell[] {
  // cpu: one epoch of 100 steps (6400 images, batch 64, 96x96); the claim is about epoch 1.
  return Object.entries(ARMS).flatMap(([arm, patch]) =>
    seeds.map((seed) => ({ arm, seed, config: baseConfig('alexnet', scale, { ...patch, seed, ...(scale === 'cpu' ? { epochs: 1 } : {}) }) })));
}

export const phenomenon1: Experiment = {
  name: 'phenomenon-1',
  title: 'loss nan from the first epoch',
  phenomenon: 'As soon as the code starts running, d2l\'s loop prints "loss nan, train acc 0.100, test acc 0.100": NaN within the first epoch.',
  setup: 'd2l\'s AlexNet (ReLU, SGD, batch 128, lr 0.01, xavier) never does this, so each arm applies one deviation found by the exploration: feeding raw 0-255 pixels (a hand-written loader that skips ToTensor\'s divide-by-255) with lr 0.1, or drawing the weights from N(0, 0.1) (a common hand-written init) at d2l\'s lr 0.01.',
  reduction: '96x96 instead of 224, batch 64 instead of 128, 1 epoch of 6400 stratified training images (100 steps). The blow-up happens within the first 10 steps at both sizes in the exploration, so the reduction only shortens the epoch.',
  expected: 'Every run, every seed, goes non-finite within the first epoch (at cpu scale: within the first 100 steps), and the locator stores where (layer, pass, op).',
  defaultSeeds: { cpu: 3, full: 3 },
  cells,
  plot: 'loss',
  check(results) {
    return outcome(Object.keys(ARMS).flatMap((arm) => {
      const rs = byArm(results, arm);
      return [
        check(rs.length > 0 && rs.every(inFirstEpoch), `${arm}: non-finite within epoch 1 for every seed (${nanSteps(rs)})`),
        check(rs.every(hasReport), `${arm}: locator report stored for every run (${rs.map((r) => r.nanLayer ? `${r.nanLayer} ${r.nanPass}` : 'none').join('; ')})`),
      ];
    }));
  },
};
