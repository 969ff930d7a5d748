// Vanishing gradients, measured: the same nets with sigmoid and with ReLU, and each weighted
// layer's weight-gradient norm (the probe field grad_w_norm, read back from the store, median
// over the probed steps). Sigmoid's derivative is at most 0.25, so every layer the gradient
// passes back through shrinks it; ReLU passes it through unchanged where a unit is active.
import { baseConfig } from './scale.js';
import { byArm, ran } from './checks.js';
import { sci } from './table.js';
import { check, outcome, type Cell, type CellResult, type Experiment, type Scale } from './types.js';

/** "Orders of magnitude below": the first layer's gradient under 1/100 of the last layer's. */
export const SIGMOID_MAX_RATIO = 1e-2;
/** ReLU's first/last ratio must be at least this many times sigmoid's. */
export const RELU_OVER_SIGMOID = 10;

const ratio = (r: CellResult): number => {
  const g = r.layerGrads;
  return g.length >= 2 ? g[0].gradW / g[g.length - 1].gradW : NaN;
};

function cells(scale: Scale, seeds: number[]): Cell[] {
  const out: Cell[] = [];
  for (const seed of seeds) {
    for (const act of ['sigmoid', 'relu'] as const) {
      // AlexNet at d2l's lr 0.01; at cpu scale the first 40 steps (gradient norms at the start
      // of training are what vanishing is about) of a 96x96 run.
      out.push({ arm: `alexnet ${act}`, seed, config: baseConfig('alexnet', scale, { activation: act, seed, ...(scale === 'cpu' ? { maxSteps: 40, epochs: 1 } : {}) }) });
    }
    for (const act of ['sigmoid', 'relu'] as const) {
      // d2l's LeNet (6.6): sigmoid, lr 0.9, batch 256; ReLU next to it with the same settings.
      out.push({ arm: `lenet ${act}`, seed, config: baseConfig('lenet', scale, { activation: act, seed, ...(scale === 'cpu' ? { epochs: 1 } : {}) }) });
    }
  }
  return out;
}

export const vanishing: Experiment = {
  name: 'vanishing',
  title: 'sigmoid vs ReLU: early-layer gradients orders of magnitude smaller with sigmoid',
  phenomenon: 'The other failure d2l\'s numerical-stability chapter warns about: with sigmoid, whose derivative is at most 0.25, the gradient shrinks at every layer on its way back, so the first layers barely learn.',
  setup: 'd2l\'s AlexNet (xavier, lr 0.01) and d2l\'s LeNet (sigmoid, lr 0.9, batch 256), each with sigmoid and with ReLU. Per weighted layer: the median over probed steps of ||grad W|| (probe field grad_w_norm, read back from the store).',
  reduction: 'AlexNet: 96x96, batch 64, the first 40 steps on 6400 stratified training images (gradient norms at the start of training are the point; the ratio between layers is set by depth and activation, not by input size). LeNet runs unchanged (28x28, batch 256) for 1 epoch on 12800 images.',
  expected: `For both nets: with sigmoid the first conv layer's gradient norm is < ${SIGMOID_MAX_RATIO} x the last layer's, and with ReLU that first/last ratio is at least ${RELU_OVER_SIGMOID}x larger than with sigmoid.`,
  defaultSeeds: { cpu: 1, full: 1 },
  cells,
  plot: 'layer-grads',
  columns: [
    { head: 'first/last grad', cell: (r) => sci(ratio(r)) },
    { head: 'grad per layer (input -> output)', cell: (r) => r.layerGrads.map((l) => `${l.alias} ${sci(l.gradW)}`).join(', ') },
  ],
  check(results) {
    const checks = [];
    for (const model of ['alexnet', 'lenet'].filter((m) => ran(results, `${m} sigmoid`))) {
      const sig = byArm(results, `${model} sigmoid`);
      const relu = byArm(results, `${model} relu`);
      for (const s of sig) {
        const r = relu.find((x) => x.seed === s.seed);
        const rs = ratio(s), rr = r ? ratio(r) : NaN;
        checks.push(check(rs < SIGMOID_MAX_RATIO, `${model} sigmoid seed ${s.seed}: first/last layer gradient ${sci(rs)} (< ${SIGMOID_MAX_RATIO})`));
        checks.push(check(rr / rs >= RELU_OVER_SIGMOID, `${model} relu seed ${s.seed}: first/last ${sci(rr)}, ${sci(rr / rs)}x sigmoid's (>= ${RELU_OVER_SIGMOID}x)`));
      }
    }
    return outcome(checks);
  },
};
