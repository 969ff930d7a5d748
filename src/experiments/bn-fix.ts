// The fix the seed found: batch normalization. The same configs and seeds that blew up in
// phenomenon-1, run again with d2l's from-scratch batch_norm (bn=scratch) and with the
// built-in BatchNorm2d/1d (bn=builtin), after every conv/linear layer, before the activation.
import { baseConfig } from './scale.js';
import { deviations } from './phenomenon-1.js';
import { byArm, ran, diverged, nanSteps, accs, CHANCE } from './checks.js';
import { check, outcome, type Cell, type Experiment, type Scale } from './types.js';

/** "Above chance": at least this test accuracy after the (reduced) epoch. */
export const MIN_ACC = 2 * CHANCE;
const BNS = ['none', 'scratch', 'builtin'] as const;

/** phenomenon-1's deviations at this scale (the 224x224 look inside the cpu scale is left out: BN runs train a full epoch). */
const arms = (scale: Scale) => deviations(scale).filter((d) => !d.fullRes);

function cells(scale: Scale, seeds: number[]): Cell[] {
  return arms(scale).flatMap(({ arm, patch }) => BNS.flatMap((bn) =>
    seeds.map((seed) => ({ arm: `${arm}, bn=${bn}`, seed, config: baseConfig('alexnet', scale, { ...(scale === 'cpu' ? { epochs: 1 } : {}), ...patch, bn, seed }) }))));
}

export const bnFix: Experiment = {
  name: 'bn-fix',
  title: 'batch normalization fixes the runs that blew up',
  phenomenon: 'The seed\'s fix: "add BN layers" (d2l 8.5, from scratch or built in).',
  setup: 'phenomenon-1\'s arms (same lr, init, pixels and seeds) three times: without BN (the failure, reproduced), with d2l\'s from-scratch batch_norm, and with the built-in BatchNorm, placed after each conv/linear layer as d2l does for LeNet-BN.',
  reduction: 'As phenomenon-1: 96x96, batch 64, 1 epoch of 6400 training images (100 steps), tested on 1000 images.',
  expected: `Without BN every seed goes non-finite (as in phenomenon-1); with bn=scratch and bn=builtin no run does, and each ends the epoch with test accuracy >= ${MIN_ACC} (chance is ${CHANCE}).`,
  defaultSeeds: { cpu: 2, full: 3 },
  cells,
  plot: 'loss',
  check(results, scale) {
    return outcome(arms(scale).filter((d) => ran(results, `${d.arm}, bn=none`)).flatMap(({ arm }) => {
      const none = byArm(results, `${arm}, bn=none`);
      const out = [check(none.length > 0 && none.every(diverged), `${arm}, no BN: non-finite for every seed (${nanSteps(none)})`)];
      for (const bn of ['scratch', 'builtin']) {
        const rs = byArm(results, `${arm}, bn=${bn}`);
        out.push(check(rs.length > 0 && rs.every((r) => !diverged(r) && r.status === 'finished'), `${arm}, bn=${bn}: finished without NaN/Inf (${rs.map((r) => `s${r.seed}: ${r.steps} steps`).join('; ')})`));
        out.push(check(rs.every((r) => (r.testAcc ?? 0) >= MIN_ACC), `${arm}, bn=${bn}: test acc >= ${MIN_ACC} (${accs(rs)})`));
      }
      return out;
    }));
  },
};
