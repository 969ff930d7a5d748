// Phenomenon 2: after lowering the learning rate, NaN appears mid-training instead of at once.
// The lr ladder on d2l's own net and init (xavier, pixels scaled): lr 10 blows up within the
// first steps (phenomenon-1); at lr 1 the exploration measured a long flat start (loss 2.30,
// train acc 0.10, exactly what d2l prints for an untrained net) and then a sudden blow-up in
// epoch 2 or 3. Same seeds at each rate.
import { baseConfig } from './scale.js';
import { byArm, ran, diverged, nanSteps } from './checks.js';
import { check, outcome, type Cell, type CellResult, type Experiment, type Scale } from './types.js';

/** Highest first (the same at both scales: nothing about these rates is resolution-specific in the exploration). */
export const LADDER: Record<Scale, number[]> = { cpu: [10, 1], full: [10, 1] };
export const CPU_EPOCHS = 3;
/** The lowered rate, also used by phenomenon-3 and bn-fix. */
export const MID_LR = 1;

const arm = (lr: number) => `lr ${lr}`;

function cells(scale: Scale, seeds: number[]): Cell[] {
  return LADDER[scale].flatMap((lr) => seeds.map((seed) => ({
    arm: arm(lr), seed, config: baseConfig('alexnet', scale, { lr, seed, ...(scale === 'cpu' ? { epochs: CPU_EPOCHS } : {}) }),
  })));
}

const nanAt = (r: CellResult | undefined): number => (r && r.nanStep !== null ? r.nanStep : Infinity);

export const phenomenon2: Experiment = {
  name: 'phenomenon-2',
  title: 'lowering the lr moves the NaN to mid-training',
  phenomenon: 'After lowering the learning rate, loss becomes nan halfway through training instead of at once.',
  setup: 'd2l\'s AlexNet and xavier init with pixels scaled, at a too-high lr that blows up at once (10), then lowered 10x (1); the same seeds at both. For each seed: the step and epoch of the first non-finite value.',
  reduction: `96x96, batch 64, ${CPU_EPOCHS} epochs of 6400 stratified training images (100 steps per epoch, ${CPU_EPOCHS * 100} steps), tested on 1000. An epoch here is 100 steps instead of d2l's 469, so "mid-training" is measured in steps as well as epochs.`,
  expected: 'For every seed the first non-finite step comes strictly later at the lowered lr than at the high one (or never, within the budget), and at least one lowered-lr run goes non-finite only after its first epoch: mid-training, after epochs that looked normal.',
  defaultSeeds: { cpu: 2, full: 3 },
  cells,
  plot: 'loss',
  check(results, scale) {
    const lrs = LADDER[scale].filter((lr) => ran(results, arm(lr)));
    const seeds = [...new Set(results.map((r) => r.seed))];
    const checks = seeds.map((seed) => {
      const steps = lrs.map((lr) => nanAt(byArm(results, arm(lr)).find((r) => r.seed === seed)));
      const later = steps.every((s, i) => i === 0 || s > steps[i - 1]);
      const show = lrs.map((lr, i) => `lr ${lr}: ${Number.isFinite(steps[i]) ? `step ${steps[i]}` : 'none'}`).join(', ');
      return check(later, `seed ${seed}: the first non-finite step comes later as the lr goes down (${show})`);
    });
    const lowered = lrs.slice(1).flatMap((lr) => byArm(results, arm(lr)));
    const mid = lowered.filter((r) => diverged(r) && (r.nanEpoch ?? 0) >= 1);
    checks.push(check(mid.length > 0, `a lowered-lr run goes non-finite after its first epoch: ${mid.length ? nanSteps(mid) : `none (${nanSteps(lowered)})`}`));
    return outcome(checks);
  },
};
