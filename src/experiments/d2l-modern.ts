// d2l's own recipes for NiN (8.3) and GoogLeNet (8.4), unchanged: xavier, plain SGD, lr 0.1,
// batch 128. d2l's published builds show both failures nanscope exists to explain: some NiN
// builds stuck at "loss 2.303, train acc 0.100" (chance: ln 10 = 2.303), some GoogLeNet builds
// printing "loss nan, train acc 0.100, test acc 0.100". These experiments record what the
// recipe does here, per seed, and check that nanscope names it: a NaN gets a located report and
// the non-finite verdict; a run stuck at chance never gets the healthy verdict.
import { d2lLine } from '../diagnose/format.js';
import { baseConfig } from './scale.js';
import { diverged, hasReport, chanceCeiling, testSize } from './checks.js';
import { CHANCE_SIGMAS } from '../diagnose/thresholds.js';
import { check, outcome, type Cell, type CellResult, type Experiment, type Scale } from './types.js';

export type Fate = 'nan' | 'stuck at chance' | 'learning';
export function fate(r: CellResult): Fate {
  if (diverged(r)) return 'nan';
  return r.testAcc !== null && r.testAcc <= chanceCeiling(testSize(r)) ? 'stuck at chance' : 'learning';
}

function modern(model: 'nin' | 'googlenet', o: { name: string; title: string; phenomenon: string; cpuEpochs: number; reduction: string }): Experiment {
  const cells = (scale: Scale, seeds: number[]): Cell[] =>
    seeds.map((seed) => ({ arm: `d2l ${model} (xavier, lr 0.1)`, seed, config: baseConfig(model, scale, { seed, ...(scale === 'cpu' ? { epochs: o.cpuEpochs } : {}) }) }));
  return {
    name: o.name,
    title: o.title,
    phenomenon: o.phenomenon,
    setup: 'd2l\'s recipe unchanged (train_ch6: xavier_uniform_, plain SGD, cross-entropy; lr 0.1, batch 128, 10 epochs). Each seed is its own run: which outcome a build gets depends on its initial weights and data order.',
    reduction: o.reduction,
    expected: `Each run ends NaN, stuck at chance (test accuracy within ${CHANCE_SIGMAS} binomial standard errors of 1/10, e.g. <= ${chanceCeiling(1000).toFixed(3)} on 1000 test images) or learning, and nanscope says which: a NaN run has a located report and the non-finite verdict; a run stuck at chance never gets the healthy verdict; a learning run is not called non-finite.`,
    defaultSeeds: { cpu: 2, full: 3 },
    cells,
    plot: 'epochs',
    columns: [{ head: 'outcome', cell: (r) => fate(r) }, { head: 'verdict', cell: (r) => r.verdict }],
    check(results) {
      const checks = results.map((r) => {
        const f = fate(r);
        const named = f === 'nan' ? hasReport(r) && r.verdict === 'non-finite' : f === 'stuck at chance' ? r.verdict !== 'healthy' : r.verdict !== 'non-finite';
        const what = f === 'nan' ? `NaN at step ${r.nanStep} in ${r.nanLayer} (${r.nanPass}, ${r.nanOp})`
          : d2lLine(r.loss, r.trainAcc, r.testAcc);
        return check(named, `seed ${r.seed}: ${f} (${what}); verdict ${r.verdict}`);
      });
      return outcome(checks);
    },
  };
}

export const d2lNin = modern('nin', {
  name: 'd2l-nin',
  title: 'd2l\'s NiN recipe: stuck at chance, or learning?',
  phenomenon: 'Some of d2l\'s own NiN builds printed "loss 2.303, train acc 0.100": the network never left chance (ln 10 = 2.303 is the loss of a uniform guess over 10 classes), with no NaN and no error.',
  cpuEpochs: 2,
  reduction: '96x96 instead of 224x224 (every layer kept; the last NiN block sees 1x1 instead of 5x5 maps: 67 is the smallest input NiN accepts), batch 64, 2 epochs on 6400 stratified training images (200 steps), tested on 1000 images.',
});

export const d2lGooglenet = modern('googlenet', {
  name: 'd2l-googlenet',
  title: 'd2l\'s GoogLeNet recipe: NaN, stuck, or learning?',
  phenomenon: 'Some of d2l\'s own GoogLeNet builds printed "loss nan, train acc 0.100, test acc 0.100": the run went NaN and the book printed it.',
  cpuEpochs: 2,
  reduction: '64x64 instead of 96x96 (every layer kept; b5 sees 2x2 instead of 3x3 maps), batch 64, 2 epochs on 6400 stratified training images (200 steps), tested on 1000 images.',
});
