// Phenomenon 2: after lowering the learning rate, NaN appears mid-training instead of at once.
// The lr ladder on phenomenon-1's raw-pixel deviation: the rate that blows up at once, then
// lower rates, same seeds. What is checked is what was measured to vary: the step of the first
// non-finite value as the lr goes down, and whether any lowered-lr run gets past its first
// epoch before going non-finite (the literal "mid-training").
import { baseConfig } from './scale.js';
import { byArm, ran, diverged, nanSteps } from './checks.js';
import { check, outcome, type Cell, type CellResult, type Experiment, type Scale } from './types.js';

/** Highest first. cpu: 96x96 (where raw pixels blow up from lr ~0.025); full: 224x224 from d2l's lr 0.01 down. */
export const LADDER: Record<Scale, number[]> = { cpu: [0.1, 0.03, 0.025, 0.02], full: [0.01, 0.003, 0.001] };
export const CPU_EPOCHS = 3;

const arm = (lr: number) => `no-scale, lr ${lr}`;

function cells(scale: Scale, seeds: number[]): Cell[] {
  return LADDER[scale].flatMap((lr) => seeds.map((seed) => ({
    arm: arm(lr), seed, config: baseConfig('alexnet', scale, { scalePixels: false, lr, seed, ...(scale === 'cpu' ? { epochs: CPU_EPOCHS } : {}) }),
  })));
}

const nanAt = (r: CellResult | undefined): number => (r && r.nanStep !== null ? r.nanStep : Infinity);

export const phenomenon2: Experiment = {
  name: 'phenomenon-2',
  title: 'lowering the lr: the NaN comes later (or not at all)',
  phenomenon: 'After lowering the learning rate, loss becomes nan halfway through training instead of at once.',
  setup: 'Raw 0-255 pixels (phenomenon-1\'s deviation) at a ladder of learning rates, highest first, same seeds: the rate that blows up within a few steps, then lower ones. For each seed: the step of the first non-finite value at each rate.',
  reduction: `96x96, batch 64, ${CPU_EPOCHS} epochs of 6400 stratified training images (${CPU_EPOCHS * 100} steps), tested on 1000. The ladder is shifted up (0.1 ... 0.02 instead of 0.01 ... 0.001) because at 96x96 raw pixels need about 10x d2l's lr to blow up (phenomenon-1).`,
  expected: 'For every seed, the first non-finite step never comes earlier as the lr is lowered, and comes strictly later (or never, within the budget) at the lowest rate than at the highest. The literal report, a NaN after at least one epoch of normal training, is checked too: some lowered-lr run goes non-finite after its first epoch.',
  defaultSeeds: { cpu: 2, full: 3 },
  cells,
  plot: 'loss',
  check(results, scale) {
    const lrs = LADDER[scale].filter((lr) => ran(results, arm(lr)));
    const seeds = [...new Set(results.map((r) => r.seed))];
    const checks = seeds.map((seed) => {
      const steps = lrs.map((lr) => nanAt(byArm(results, arm(lr)).find((r) => r.seed === seed)));
      const monotone = steps.every((s, i) => i === 0 || s >= steps[i - 1]);
      const show = lrs.map((lr, i) => `lr ${lr}: ${Number.isFinite(steps[i]) ? `step ${steps[i]}` : 'none'}`).join(', ');
      return check(monotone && steps[steps.length - 1] > steps[0], `seed ${seed}: first non-finite step as the lr goes down: ${show}`);
    });
    const lowered = lrs.slice(1).flatMap((lr) => byArm(results, arm(lr)));
    const mid = lowered.filter((r) => diverged(r) && (r.nanEpoch ?? 0) >= 1);
    checks.push(check(mid.length > 0, `a lowered-lr run goes non-finite after its first epoch (mid-training): ${mid.length ? nanSteps(mid) : `none of ${lowered.length} (${nanSteps(lowered)})`}`));
    return outcome(checks);
  },
};
